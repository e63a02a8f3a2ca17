import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { pageHref, renderMarkdown } from "@/common/markdown";
import { linkedSlugs } from "@/common/wikilinks";
import { formatTime, plural } from "@/components/format";
import { PageBody } from "@/components/page/PageBody";
import { PageFrame } from "@/components/page/PageFrame";
import { writePermission } from "@/origin/protection";
import { getOrigin } from "@/origin/runtime";
import { wikiOf } from "@/origin/wiki-reads";
import { currentViewer } from "../../../../viewer";
import { findPage, orNotFound, pageSlug } from "../../../page-slug";
import { existingPageFrame } from "../../../frame-props";
import { AuthorLinks } from "@/components/lists/AuthorLinks";

export const dynamic = "force-dynamic";

type Props = { params: Promise<{ slug: string; number: string }> };

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const { slug, number } = await params;
  return { title: `${slug.replaceAll("_", " ")} (revision ${number})` };
}

export default async function RevisionPage({ params }: Props) {
  const raw = await params;
  const slug = pageSlug(raw.slug);
  if (!/^\d{1,9}$/u.test(raw.number) || Number(raw.number) < 1) notFound();
  const origin = await getOrigin();
  const [page, viewer] = await Promise.all([findPage(wikiOf(origin), slug), currentViewer()]);
  if (!page) notFound();
  const revision = await orNotFound(wikiOf(origin).getRevision({ slug, number: Number(raw.number) }));
  const existing = await wikiOf(origin).existingSlugs({ slugs: linkedSlugs(revision.text) });
  const permission = writePermission(viewer, page.protection);
  const current = revision.number === page.revision;
  return (
    <PageFrame
      {...existingPageFrame(slug, page)}
      tab="history"
    >
      <div className="notice info" data-testid="revision-banner">
        <p>
          {current ? "The current revision" : "An old revision"} ({revision.number} of {page.revision}), saved{" "}
          <time dateTime={revision.updatedAt}>{formatTime(revision.updatedAt)}</time>: {plural(revision.editCount, "edit")} by{" "}
          <AuthorLinks authors={revision.authors} /> via {revision.pops.join(", ")}.
        </p>
        <p className="actions">
          {revision.number > 1 ? (
            <Link href={`${pageHref(slug, "diff")}?from=${revision.number - 1}&to=${revision.number}`}>Diff with the previous</Link>
          ) : null}
          {!current ? <Link href={`${pageHref(slug, "diff")}?from=${revision.number}&to=${page.revision}`}>Diff with the current</Link> : null}
          {!current && permission.canWrite ? (
            <Link className="button" href={`${pageHref(slug, "edit")}?restore=${revision.number}`} data-testid="restore">
              Restore this revision
            </Link>
          ) : null}
        </p>
      </div>
      <PageBody sanitizedHtml={renderMarkdown(revision.text, { existingPages: existing })} />
      <details className="source">
        <summary>Markdown source</summary>
        <pre>{revision.text}</pre>
      </details>
    </PageFrame>
  );
}
