import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { renderMarkdown } from "@/common/markdown";
import { slugToTitle } from "@/common/slug";
import { formatTime } from "@/components/format";
import { DeletedPage } from "@/components/page/DeletedPage";
import { FollowLive } from "@/components/page/FollowLive";
import { PageBody } from "@/components/page/PageBody";
import { PageFrame } from "@/components/page/PageFrame";
import { readPageView } from "@/origin/page-view";
import { getOrigin } from "@/origin/runtime";
import { pageSlug } from "../page-slug";
import { existingPageFrame } from "../frame-props";

export const dynamic = "force-dynamic";

type Props = { params: Promise<{ slug: string }> };

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const { slug } = await params;
  return { title: slug.replaceAll("_", " ") };
}

/**
 * The same HTML for every reader (no cookie is read): the host gives it an
 * ETag from what readPageView returns and lets shared caches keep it
 * (origin/server/cacheable-views.ts).
 */
export default async function WikiPage({ params }: Props) {
  const slug = pageSlug((await params).slug);
  const origin = await getOrigin();
  const view = await readPageView(origin.db.prisma, slug);
  if (!view) notFound();
  if ("deleted" in view) return <DeletedPage slug={slug} title={slugToTitle(slug)} />;
  const { page, existingLinks } = view;
  const existing = new Set(existingLinks);
  return (
    <PageFrame {...existingPageFrame(slug, page)} tab="read">
      <FollowLive slug={slug} existingPages={existingLinks}>
        <PageBody sanitizedHtml={renderMarkdown(page.text, { existingPages: existing })} />
      </FollowLive>
      <footer className="page-footer muted">
        Revision {page.revision} · last saved <time dateTime={page.updatedAt}>{formatTime(page.updatedAt)}</time>
      </footer>
    </PageFrame>
  );
}
