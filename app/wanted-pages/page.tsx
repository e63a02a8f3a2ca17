import { PageLinkList } from "@/components/lists/PageLinkList";
import { getOrigin } from "@/origin/runtime";
import { wikiOf } from "@/origin/wiki-reads";

export const dynamic = "force-dynamic";
export const metadata = { title: "Wanted pages" };

export default async function WantedPagesPage() {
  const origin = await getOrigin();
  const pages = await wikiOf(origin).wantedPages({ limit: 200 });
  return (
    <section>
      <h1>Wanted pages</h1>
      <p className="muted">Pages that others link to but nobody has written yet, most wanted first.</p>
      <PageLinkList pages={pages} missing empty="No page is wanted: every link leads somewhere." />
    </section>
  );
}
