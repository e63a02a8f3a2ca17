import { notFound, redirect } from "next/navigation";
import { pageHref } from "@/common/markdown";
import { parseSlug, type Slug, SlugError, titleToSlug } from "@/common/slug";
import { NotFoundError, PageDeletedError, PageMovedError } from "@/origin/errors";
import type { PageView } from "@/origin/pages";
import type { WikiReads } from "@/origin/wiki-reads";

/**
 * The page a /wiki/... URL names (its raw route param). A title typed into the address bar
 * ("/wiki/the red wedding") redirects to its slug, as a wiki does; a name no
 * page can have is a 404.
 */
export function pageSlug(param: string, action?: Parameters<typeof pageHref>[1]): Slug {
  // Next 16 hands page params still percent-encoded ("A%3AB"). No valid slug
  // holds "%", so decoding once cannot turn one page's name into another's.
  let raw: string;
  try {
    raw = decodeURIComponent(param);
  } catch {
    notFound();
  }
  try {
    return parseSlug(raw);
  } catch (error) {
    if (!(error instanceof SlugError)) throw error;
  }
  let slug: Slug;
  try {
    slug = titleToSlug(raw);
  } catch (error) {
    if (error instanceof SlugError) notFound();
    throw error;
  }
  redirect(pageHref(slug, action));
}

/**
 * A page, or null when it does not exist yet (getPage's 404). A deleted
 * page's tabs (edit, history, revisions) lead to its view, which says so.
 */
export async function findPage(wiki: WikiReads, slug: Slug, action?: Parameters<typeof pageHref>[1]): Promise<PageView | null> {
  try {
    return await wiki.getPage({ slug });
  } catch (error) {
    if (error instanceof NotFoundError) return null;
    // An old name of a moved page: the same tab of the page under its name now.
    if (error instanceof PageMovedError) redirect(pageHref(error.to, action));
    if (error instanceof PageDeletedError) redirect(pageHref(slug));
    throw error;
  }
}

/** An operation's result; the origin's "not found" becomes this route's 404. */
export async function orNotFound<T>(operation: Promise<T>): Promise<T> {
  try {
    return await operation;
  } catch (error) {
    if (error instanceof NotFoundError || error instanceof PageDeletedError) notFound();
    if (error instanceof PageMovedError) redirect(pageHref(error.to));
    throw error;
  }
}
