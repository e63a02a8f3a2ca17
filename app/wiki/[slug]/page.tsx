import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { renderMarkdown } from "@/common/markdown";
import { linkedSlugs } from "@/common/wikilinks";
import { formatTime } from "@/components/format";
import { FollowLive } from "@/components/page/FollowLive";
import { PageBody } from "@/components/page/PageBody";
import { PageFrame } from "@/components/page/PageFrame";
import { existingSlugs } from "@/origin/links";
import { getOrigin } from "@/origin/runtime";
import { currentViewer } from "../../viewer";
import { findPage, pageSlug } from "../page-slug";
import { existingPageFrame } from "../frame-props";

export const dynamic = "force-dynamic";

type Props = { params: Promise<{ slug: string }> };

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const { slug } = await params;
  return { title: slug.replaceAll("_", " ") };
}

export default async function WikiPage({ params }: Props) {
  const slug = pageSlug((await params).slug);
  const origin = await getOrigin();
  const [page, viewer] = await Promise.all([findPage(origin.db.prisma, slug), currentViewer()]);
  if (!page) notFound();
  const existing = await existingSlugs(origin.db.prisma, { slugs: linkedSlugs(page.text) });
  return (
    <PageFrame
      {...existingPageFrame(slug, page, viewer)}
      tab="read"
    >
      <FollowLive slug={slug} existingPages={[...existing]}>
        <PageBody sanitizedHtml={renderMarkdown(page.text, { existingPages: existing })} />
      </FollowLive>
      <footer className="page-footer muted">
        Revision {page.revision} · last saved <time dateTime={page.updatedAt}>{formatTime(page.updatedAt)}</time>
      </footer>
    </PageFrame>
  );
}
