import type { Metadata } from "next";
import { slugToTitle } from "@/common/slug";
import { PageLinkList } from "@/components/lists/PageLinkList";
import { PageFrame } from "@/components/page/PageFrame";
import { getOrigin } from "@/origin/runtime";
import { wikiOf } from "@/origin/wiki-reads";
import { findPage, pageSlug } from "../../page-slug";

export const dynamic = "force-dynamic";

type Props = { params: Promise<{ slug: string }> };

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const { slug } = await params;
  return { title: `What links to ${slug.replaceAll("_", " ")}` };
}

export default async function LinksHerePage({ params }: Props) {
  const slug = pageSlug((await params).slug, "links-here");
  const origin = await getOrigin();
  const [page, pages] = await Promise.all([findPage(wikiOf(origin), slug, "links-here"), wikiOf(origin).backlinks({ slug })]);
  return (
    <PageFrame
      slug={slug}
      title={page?.title ?? slugToTitle(slug)}
      tab="links-here"
      exists={page !== null}
      protection={page?.protection ?? "none"}
      subtitle="What links here"
    >
      <PageLinkList pages={pages} empty="No page links here yet." />
    </PageFrame>
  );
}
