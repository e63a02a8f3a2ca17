import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { pageHref } from "@/common/markdown";
import { formatTime } from "@/components/format";
import { RevisionDiffView } from "@/components/history/RevisionDiffView";
import { PageFrame } from "@/components/page/PageFrame";
import { getOrigin } from "@/origin/runtime";
import { wikiOf } from "@/origin/wiki-reads";
import { findPage, orNotFound, pageSlug } from "../../page-slug";
import { existingPageFrame } from "../../frame-props";
import { AuthorLinks } from "@/components/lists/AuthorLinks";

export const dynamic = "force-dynamic";

type Props = { params: Promise<{ slug: string }>; searchParams: Promise<{ from?: string | string[]; to?: string | string[] }> };

function revisionNumber(value: string | string[] | undefined): number | undefined {
  return typeof value === "string" && /^\d{1,9}$/u.test(value) && Number(value) > 0 ? Number(value) : undefined;
}

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const { slug } = await params;
  return { title: `Changes to ${slug.replaceAll("_", " ")}` };
}

export default async function DiffPage({ params, searchParams }: Props) {
  const slug = pageSlug((await params).slug, "diff");
  const query = await searchParams;
  const origin = await getOrigin();
  const page = await findPage(wikiOf(origin), slug, "diff");
  if (!page) notFound();
  const to = revisionNumber(query.to) ?? page.revision;
  const from = revisionNumber(query.from) ?? Math.max(1, to - 1);
  const [older, newer] = await Promise.all(
    [Math.min(from, to), Math.max(from, to)].map((number) => orNotFound(wikiOf(origin).getRevision({ slug, number }))),
  );
  const revisionLink = (number: number) => `${pageHref(slug)}/revisions/${number}`;
  return (
    <PageFrame
      {...existingPageFrame(slug, page)}
      tab="history"
    >
      <div className="diff-header">
        {[older!, newer!].map((revision, index) => (
          <div key={revision.number} className={index === 0 ? "diff-side-old" : "diff-side-new"}>
            <Link href={revisionLink(revision.number)}>Revision {revision.number}</Link>
            <span className="muted small">
              {" "}
              · {formatTime(revision.updatedAt)} · <AuthorLinks authors={revision.authors} /> · via {revision.pops.join(", ")}
            </span>
          </div>
        ))}
      </div>
      <RevisionDiffView before={older!.text} after={newer!.text} />
      <p className="pager">
        <Link href={pageHref(slug, "history")}>Back to the history</Link>
      </p>
    </PageFrame>
  );
}
