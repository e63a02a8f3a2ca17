import Link from "next/link";
import { RecentChangesList } from "@/components/lists/RecentChangesList";
import { NewPageForm } from "@/components/page/NewPageForm";
import { recentChanges } from "@/origin/recent-changes";
import { getOrigin } from "@/origin/runtime";
import { currentViewer } from "./viewer";

export const dynamic = "force-dynamic";

export default async function Home() {
  const origin = await getOrigin();
  const [changes, viewer] = await Promise.all([recentChanges(origin.db.prisma, { limit: 10 }), currentViewer()]);
  return (
    <section>
      <h1>Weirwood</h1>
      <p className="lead">
        A wiki that keeps up when everyone writes at once: your edits are saved at the nearest edge the moment you type, and reach
        the wiki a few seconds later.
      </p>
      {viewer && viewer.role !== "reader" ? (
        <>
          <h2>Start a page</h2>
          <NewPageForm title="" />
        </>
      ) : (
        <p>
          <Link href="/register">Create an account</Link> or <Link href="/login">log in</Link> to write.
        </p>
      )}
      <h2>Recent changes</h2>
      <RecentChangesList changes={changes} />
      <p>
        <Link href="/recent-changes">All recent changes</Link> · <Link href="/wanted-pages">Wanted pages</Link>
      </p>
    </section>
  );
}
