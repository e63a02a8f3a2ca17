import { afterCursor, type ChangeCursor, encodeChangeCursor, NEWEST_FIRST } from "./change-cursor";
import type { Prisma, PrismaClient } from "./generated/prisma/client";

export const RECENT_CHANGES_DEFAULT_LIMIT = 50;
export const RECENT_CHANGES_MAX_LIMIT = 500;

/** One revision of any page, as the wiki's recent changes list it. */
export interface RecentChange {
  slug: string;
  title: string;
  revision: number;
  /** Its newest flush: a revision grouping a crowd's minute moves up as it grows. */
  updatedAt: string;
  authors: string[];
  editCount: number;
  pops: string[];
}

/** Some of a longer list of changes, and where the next part starts (null: none). */
export interface ChangePage {
  changes: RecentChange[];
  next: string | null;
}

/** Revisions across the wiki, newest first; `since` keeps those changed at or after it. */
export async function recentChanges(
  prisma: PrismaClient,
  options: { limit?: number; since?: Date } = {},
): Promise<RecentChange[]> {
  const limit = Math.min(options.limit ?? RECENT_CHANGES_DEFAULT_LIMIT, RECENT_CHANGES_MAX_LIMIT);
  const revisions = await prisma.revision.findMany({
    // A deleted page's revisions leave the lists with it (and come back on undelete).
    where: { page: { deletedAt: null }, ...(options.since ? { updatedAt: { gte: options.since } } : {}) },
    // Timestamps are milliseconds and two revisions can share one: the id
    // keeps ties in the same order from one request to the next.
    orderBy: NEWEST_FIRST,
    take: limit,
    select: CHANGE,
  });
  return revisions.map(changeOf);
}

/**
 * The revisions `where` selects, newest first, `limit` of them after
 * `before`: a user's contributions, a watchlist.
 */
export async function changePage(
  prisma: PrismaClient,
  options: { where: Prisma.RevisionWhereInput; limit?: number; before?: ChangeCursor },
): Promise<ChangePage> {
  const limit = Math.min(options.limit ?? RECENT_CHANGES_DEFAULT_LIMIT, RECENT_CHANGES_MAX_LIMIT);
  // One more than asked says whether there is a next page.
  const rows = await prisma.revision.findMany({
    where: { AND: [options.where, afterCursor(options.before), { page: { deletedAt: null } }] },
    orderBy: NEWEST_FIRST,
    take: limit + 1,
    select: { ...CHANGE, id: true },
  });
  const shown = rows.slice(0, limit);
  const last = shown.at(-1);
  return { changes: shown.map(changeOf), next: rows.length > limit && last ? encodeChangeCursor(last) : null };
}

const CHANGE = {
  number: true,
  updatedAt: true,
  authors: true,
  editCount: true,
  pops: true,
  page: { select: { slug: true, title: true } },
} as const;

function changeOf(revision: Prisma.RevisionGetPayload<{ select: typeof CHANGE }>): RecentChange {
  return {
    slug: revision.page.slug,
    title: revision.page.title,
    revision: revision.number,
    updatedAt: revision.updatedAt.toISOString(),
    authors: revision.authors,
    editCount: revision.editCount,
    pops: revision.pops,
  };
}
