import { RecentChangesList } from "@/components/lists/RecentChangesList";
import { recentChanges } from "@/origin/recent-changes";
import { getOrigin } from "@/origin/runtime";

export const dynamic = "force-dynamic";
export const metadata = { title: "Recent changes" };

export default async function RecentChangesPage() {
  const origin = await getOrigin();
  const changes = await recentChanges(origin.db.prisma, { limit: 100 });
  return (
    <section>
      <h1>Recent changes</h1>
      <p className="muted">Each change is one flush: the edits a PoP merged for a page over a few seconds.</p>
      <RecentChangesList changes={changes} />
    </section>
  );
}
