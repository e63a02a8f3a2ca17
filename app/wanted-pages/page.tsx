import { PageLinkList } from "@/components/lists/PageLinkList";
import { wantedPages } from "@/origin/links";
import { getOrigin } from "@/origin/runtime";

export const dynamic = "force-dynamic";
export const metadata = { title: "Wanted pages" };

export default async function WantedPagesPage() {
  const origin = await getOrigin();
  const pages = await wantedPages(origin.db.prisma, { limit: 200 });
  return (
    <section>
      <h1>Wanted pages</h1>
      <p className="muted">Pages that others link to but nobody has written yet, most wanted first.</p>
      <PageLinkList pages={pages} missing empty="No page is wanted: every link leads somewhere." />
    </section>
  );
}
