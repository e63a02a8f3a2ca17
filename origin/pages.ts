import type { Slug } from "../common/slug";
import { requireNotDeleted } from "./deletion";
import { NotFoundError } from "./errors";
import { requireNotMoved } from "./moves";
import type { PrismaClient } from "./generated/prisma/client";
import { pageText } from "../common/page-text";
import { headSeq, pageDoc, readStoredPage, readStoredPages } from "./page-log";

export type PageProtection = "none" | "admin";

/** A page as readers see it: its current Markdown and where it stands. */
export interface PageView {
  slug: string;
  title: string;
  text: string;
  /** The newest revision's number (0 for a page no refresh has given one yet). */
  revision: number;
  updatedAt: string;
  protection: PageProtection;
  /**
   * The newest flush the text includes: the version an edge's flush answers
   * and reads name (`revision` there), so that a reader can tell an edge's
   * text that is newer from one that lags.
   */
  version: number;
}

// Texts of pages whose newest flushes are not refreshed into Page.text yet,
// by page and version: a hot page is read far more often than it is flushed.
const FRESH_TEXTS_MAX = 256;
const freshTexts = new Map<string, string>();

/**
 * The page's current text: Page.text when it holds every flush, otherwise
 * the base and the flushes merged here, so a reader never waits for the
 * text refresh (origin/text-refresh.ts).
 */
export async function getPage(prisma: PrismaClient, options: { slug: Slug }): Promise<PageView> {
  const [page, stored] = await Promise.all([
    prisma.page.findUnique({
      where: { slug: options.slug },
      select: { id: true, slug: true, title: true, text: true, textSeq: true, revisionCount: true, updatedAt: true, protection: true, deletedAt: true },
    }),
    readStoredPage(prisma, options.slug),
  ]);
  if (!page || !stored) {
    await requireNotMoved(prisma, options.slug);
    throw new NotFoundError(`no page ${options.slug}: check the slug, or create the page by editing it`);
  }
  requireNotDeleted(page, options.slug);
  const head = headSeq(stored);
  return {
    slug: page.slug,
    title: page.title,
    text: head > page.textSeq ? freshText(page.id, stored) : page.text,
    revision: page.revisionCount,
    updatedAt: page.updatedAt.toISOString(),
    protection: page.protection,
    version: Number(head),
  };
}

/**
 * The current texts of `slugs` (an empty string for a page that does not
 * exist), merged up to each page's newest flush: what a check of "everything
 * acknowledged reached the origin" must read, not Page.text, which follows
 * within the text refresh's bound.
 */
export async function currentTexts(prisma: PrismaClient, slugs: readonly string[]): Promise<Map<string, string>> {
  const [pages, stored] = await Promise.all([
    prisma.page.findMany({ where: { slug: { in: [...slugs] } }, select: { id: true, slug: true, text: true, textSeq: true } }),
    readStoredPages(prisma, slugs),
  ]);
  const texts = new Map(slugs.map((slug) => [slug, ""]));
  for (const page of pages) {
    const log = stored.get(page.slug);
    texts.set(page.slug, log && headSeq(log) > page.textSeq ? freshText(page.id, log) : page.text);
  }
  return texts;
}

function freshText(pageId: string, stored: Parameters<typeof pageDoc>[0] & object): string {
  const key = `${pageId}:${headSeq(stored)}`;
  const cached = freshTexts.get(key);
  if (cached !== undefined) return cached;
  const doc = pageDoc(stored);
  const text = pageText(doc);
  doc.destroy();
  if (freshTexts.size >= FRESH_TEXTS_MAX) freshTexts.delete(freshTexts.keys().next().value!);
  freshTexts.set(key, text);
  return text;
}
