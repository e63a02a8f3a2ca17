import { linkedSlugs } from "../common/wikilinks";
import type { Slug } from "../common/slug";
import { NotFoundError, PageDeletedError } from "./errors";
import type { PrismaClient } from "./generated/prisma/client";
import { existingSlugs } from "./links";
import { getPage, type PageView } from "./pages";

/**
 * Everything a page's read view shows: the page, and which of the pages it
 * links to exist (its links are blue or red). The view renders from this and
 * its ETag is a hash of this (origin/server/cacheable-views.ts), so that a
 * 304 means the same HTML.
 */
export interface PageViewContent {
  page: PageView;
  existingLinks: Slug[];
}

/**
 * A page an admin deleted: the view says so to everyone, the same for every
 * reader (admins find the reason in the deletion log, and the undelete
 * button, from their own GET /api/me).
 */
export interface DeletedPageViewContent {
  deleted: { slug: Slug };
}

/** The view's content, or null for a page that does not exist yet. */
export async function readPageView(prisma: PrismaClient, slug: Slug): Promise<PageViewContent | DeletedPageViewContent | null> {
  let page: PageView;
  try {
    page = await getPage(prisma, { slug });
  } catch (error) {
    if (error instanceof NotFoundError) return null;
    if (error instanceof PageDeletedError) return { deleted: { slug } };
    throw error;
  }
  const existing = await existingSlugs(prisma, { slugs: linkedSlugs(page.text) });
  return { page, existingLinks: [...existing].sort() };
}

/** How many recent changes the home page lists. */
export const HOME_RECENT_CHANGES = 10;
