import type { PrismaClient } from "./generated/prisma/client";

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

/** Revisions across the wiki, newest first; `since` keeps those changed at or after it. */
export async function recentChanges(
  prisma: PrismaClient,
  options: { limit?: number; since?: Date } = {},
): Promise<RecentChange[]> {
  const limit = Math.min(options.limit ?? RECENT_CHANGES_DEFAULT_LIMIT, RECENT_CHANGES_MAX_LIMIT);
  const revisions = await prisma.revision.findMany({
    where: options.since ? { updatedAt: { gte: options.since } } : {},
    // Timestamps are milliseconds and two revisions can share one: the id
    // keeps ties in the same order from one request to the next.
    orderBy: [{ updatedAt: "desc" }, { id: "desc" }],
    take: limit,
    select: {
      number: true,
      updatedAt: true,
      authors: true,
      editCount: true,
      pops: true,
      page: { select: { slug: true, title: true } },
    },
  });
  return revisions.map((revision) => ({
    slug: revision.page.slug,
    title: revision.page.title,
    revision: revision.number,
    updatedAt: revision.updatedAt.toISOString(),
    authors: revision.authors,
    editCount: revision.editCount,
    pops: revision.pops,
  }));
}
