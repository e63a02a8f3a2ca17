import Link from "next/link";
import { RecentChangesList } from "@/components/lists/RecentChangesList";
import { StartPage } from "@/components/page/StartPage";
import { HOME_RECENT_CHANGES } from "@/origin/page-view";
import { getOrigin } from "@/origin/runtime";
import { wikiOf } from "@/origin/wiki-reads";

export const dynamic = "force-dynamic";

/** The same HTML for every reader, like a page view (origin/server/cacheable-views.ts). */
export default async function Home() {
  const origin = await getOrigin();
  const changes = await wikiOf(origin).recentChanges({ limit: HOME_RECENT_CHANGES });
  return (
    <section>
      <h1>Weirwood</h1>
      <p className="lead">
        A wiki that keeps up when everyone writes at once: your edits are saved at the nearest edge the moment you type, and reach
        the wiki a few seconds later.
      </p>
      <StartPage />
      <h2>Recent changes</h2>
      <RecentChangesList changes={changes} />
      <p>
        <Link href="/recent-changes">All recent changes</Link> · <Link href="/wanted-pages">Wanted pages</Link>
      </p>
    </section>
  );
}
