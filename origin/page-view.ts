import { parseRedirect } from "../common/redirect";
import { linkedSlugs } from "../common/wikilinks";
import type { Slug } from "../common/slug";
import { NotFoundError, PageDeletedError, PageMovedError } from "./errors";
import type { PrismaClient } from "./generated/prisma/client";
import { existingSlugs } from "./links";
import { getPage, type PageView } from "./pages";

/**
 * Everything a page's read view shows: the page, and which of the pages it
 * links to exist (its links are blue or red). The view renders from this and
 * its ETag is a hash of this (origin/server/cacheable-views.ts), so that a
 * 304 means the same HTML.
 *
 * A redirect page (common/redirect.ts) is followed one step: the view of
 * /wiki/<redirect> is its target's, rendered in place with `redirectedFrom`,
 * so that the one cacheable URL readers follow links to holds the target's
 * content and its ETag changes with the target's edits. A redirect that is
 * not followed shows itself with `redirect` saying why.
 */
export interface PageViewContent {
  page: PageView;
  existingLinks: Slug[];
  /** The redirect this view followed to `page`. */
  redirectedFrom?: Slug;
  /** `page` is a redirect to `target`, shown rather than followed. */
  redirect?: ShownRedirect;
}

/**
 * A page an admin deleted: the view says so to everyone, the same for every
 * reader (admins find the reason in the deletion log, and the undelete
 * button, from their own GET /api/me).
 */
export interface DeletedPageViewContent {
  deleted: { slug: Slug };
}

export type ShownRedirect =
  /** Asked for as itself (?redirect=no), to read or edit it. */
  | { target: Slug; why: "asked"; targetExists: boolean }
  /** Its target does not exist (or was deleted): a red link. */
  | { target: Slug; why: "missing"; targetExists: false }
  /** Its target is itself a redirect (to `next`): MediaWiki follows one step, never two, so that no chain or loop is followed. */
  | { target: Slug; why: "double"; targetExists: true; next: Slug }
  /** It redirects to itself. */
  | { target: Slug; why: "self"; targetExists: true };

/** The view's content, or null for a page that does not exist yet. */
export async function readPageView(
  prisma: PrismaClient,
  slug: Slug,
  options: { followRedirect?: boolean } = {},
): Promise<PageViewContent | DeletedPageViewContent | null> {
  let page: PageView;
  try {
    page = await getPage(prisma, { slug });
  } catch (error) {
    if (error instanceof NotFoundError) return null;
    if (error instanceof PageDeletedError) return { deleted: { slug } };
    // An old name of a moved page: the page in place, as a redirect's target
    // (one step: a moved page that is itself a redirect shows itself).
    if (error instanceof PageMovedError) return movedView(prisma, slug, error.to as Slug);
    throw error;
  }
  const redirect = parseRedirect(page.text);
  if (!redirect) return plainView(prisma, page);
  const shown = async (shownRedirect: ShownRedirect) => ({ ...(await plainView(prisma, page)), redirect: shownRedirect });
  const { target } = redirect;
  if (target === slug) return shown({ target, why: "self", targetExists: true });
  const targetPage = await findPage(prisma, target);
  if (options.followRedirect === false) return shown({ target, why: "asked", targetExists: targetPage !== null });
  if (!targetPage) return shown({ target, why: "missing", targetExists: false });
  const further = parseRedirect(targetPage.text);
  if (further) return shown({ target, why: "double", targetExists: true, next: further.target });
  return { ...(await plainView(prisma, targetPage)), redirectedFrom: slug };
}

async function movedView(prisma: PrismaClient, from: Slug, to: Slug): Promise<PageViewContent | DeletedPageViewContent | null> {
  const page = await findPage(prisma, to);
  if (!page) return { deleted: { slug: to } };
  return { ...(await plainView(prisma, page)), redirectedFrom: from };
}

async function plainView(prisma: PrismaClient, page: PageView): Promise<PageViewContent> {
  const existing = await existingSlugs(prisma, { slugs: linkedSlugs(page.text) });
  return { page, existingLinks: [...existing].sort() };
}

async function findPage(prisma: PrismaClient, slug: Slug): Promise<PageView | null> {
  try {
    return await getPage(prisma, { slug });
  } catch (error) {
    // A deleted target is no page to land on: the redirect shows itself, its link red.
    // Nor is an old name of a moved page (a second step): shown, as a double redirect would be.
    if (error instanceof NotFoundError || error instanceof PageDeletedError || error instanceof PageMovedError) return null;
    throw error;
  }
}

/** How many recent changes the home page lists. */
export const HOME_RECENT_CHANGES = 10;
