import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { pageHref } from "@/common/markdown";
import { RevisionTable } from "@/components/history/RevisionTable";
import { PageFrame } from "@/components/page/PageFrame";
import { HISTORY_DEFAULT_LIMIT } from "@/origin/revisions";
import { getOrigin } from "@/origin/runtime";
import { wikiOf } from "@/origin/wiki-reads";
import { findPage, pageSlug } from "../../page-slug";
import { existingPageFrame } from "../../frame-props";

export const dynamic = "force-dynamic";

type Props = { params: Promise<{ slug: string }>; searchParams: Promise<{ before?: string | string[] }> };

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const { slug } = await params;
  return { title: `History of ${slug.replaceAll("_", " ")}` };
}

export default async function HistoryPage({ params, searchParams }: Props) {
  const slug = pageSlug((await params).slug, "history");
  const { before } = await searchParams;
  const beforeNumber = typeof before === "string" && /^\d{1,9}$/u.test(before) ? Number(before) : undefined;
  const origin = await getOrigin();
  const page = await findPage(wikiOf(origin), slug, "history");
  if (!page) notFound();
  const revisions = await wikiOf(origin).listRevisions({ slug, before: beforeNumber, limit: HISTORY_DEFAULT_LIMIT });
  const oldest = revisions.at(-1)?.number;
  return (
    <PageFrame
      {...existingPageFrame(slug, page)}
      tab="history"
      subtitle={`${page.revision} revisions; each groups consecutive flushes: one person's burst of typing, or a minute of a crowd's`}
    >
      <RevisionTable slug={slug} revisions={revisions} />
      <p className="pager">
        {beforeNumber !== undefined ? <Link href={pageHref(slug, "history")}>Newest</Link> : null}
        {oldest !== undefined && oldest > 1 && revisions.length === HISTORY_DEFAULT_LIMIT ? (
          <Link href={`${pageHref(slug, "history")}?before=${oldest}`}>Older revisions</Link>
        ) : null}
      </p>
    </PageFrame>
  );
}
