import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { cache } from "react";
import { pageHref, renderMarkdown } from "@/common/markdown";
import { parseRedirect } from "@/common/redirect";
import { type Slug, slugToTitle } from "@/common/slug";
import { formatTime } from "@/components/format";
import { DeletedPage } from "@/components/page/DeletedPage";
import { FollowLive } from "@/components/page/FollowLive";
import { textFingerprint } from "@/common/page-text";
import { PageBody } from "@/components/page/PageBody";
import { PageFrame } from "@/components/page/PageFrame";
import { RedirectedFrom, RedirectNotice } from "@/components/page/RedirectNotes";
import { TargetAddress } from "@/components/page/TargetAddress";
import { getOrigin } from "@/origin/runtime";
import { wikiOf } from "@/origin/wiki-reads";
import { pageSlug } from "../page-slug";
import { existingPageFrame } from "../frame-props";

export const dynamic = "force-dynamic";

type Props = { params: Promise<{ slug: string }>; searchParams: Promise<{ redirect?: string | string[] }> };

/** One read per request for the metadata and the page. */
const viewOf = cache(async (slug: Slug, followRedirect: boolean) => wikiOf(await getOrigin()).readPageView(slug, { followRedirect }));

/** `?redirect=no` shows a redirect page as itself, to read or edit it (MediaWiki's word). */
async function followsRedirect(searchParams: Props["searchParams"]): Promise<boolean> {
  return (await searchParams).redirect !== "no";
}

export async function generateMetadata({ params, searchParams }: Props): Promise<Metadata> {
  const { slug } = await params;
  const view = await viewOf(pageSlug(slug), await followsRedirect(searchParams));
  const shown = view && "page" in view ? view.page.slug : slug;
  return { title: shown.replaceAll("_", " ") };
}

/**
 * The same HTML for every reader (no cookie is read): the host gives it an
 * ETag from what readPageView returns and lets shared caches keep it
 * (origin/server/cacheable-views.ts). A redirect is followed here, in place:
 * the redirect's URL is the cached one and its tag covers the target's content.
 */
export default async function WikiPage({ params, searchParams }: Props) {
  const slug = pageSlug((await params).slug);
  const view = await viewOf(slug, await followsRedirect(searchParams));
  if (!view) notFound();
  if ("deleted" in view) return <DeletedPage slug={slug} title={slugToTitle(slug)} />;
  const { page, existingLinks, redirectedFrom, redirect } = view;
  const shownSlug = page.slug as Slug;
  const existing = new Set(existingLinks);
  // A redirect shown as itself: its note says where it points; the body is what follows the redirect line.
  const body = redirect ? (parseRedirect(page.text)?.rest ?? page.text) : page.text;
  return (
    <PageFrame {...existingPageFrame(shownSlug, page)} tab="read" subtitle={redirectedFrom ? <RedirectedFrom from={redirectedFrom} /> : undefined}>
      {redirectedFrom ? <TargetAddress href={pageHref(shownSlug)} /> : null}
      {redirect ? <RedirectNotice redirect={redirect} /> : null}
      <FollowLive slug={shownSlug} existingPages={existingLinks} served={redirect ? undefined : { version: page.version, fingerprint: textFingerprint(page.text) }}>
        {redirect && body.trim() === "" ? null : <PageBody sanitizedHtml={renderMarkdown(body, { existingPages: existing })} />}
      </FollowLive>
      <footer className="page-footer muted">
        Revision {page.revision} · last saved <time dateTime={page.updatedAt}>{formatTime(page.updatedAt)}</time>
      </footer>
    </PageFrame>
  );
}
