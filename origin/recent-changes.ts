import { afterCursor, type ChangeCursor, encodeChangeCursor, NEWEST_FIRST } from "./change-cursor";
import { nameKeyOf } from "./auth/accounts";
import { Prisma, type PrismaClient } from "./generated/prisma/client";

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

/**
 * Which changes a reader of recent changes wants (issue 22), as MediaWiki's
 * Special:RecentChanges filters them. All are optional and combine with AND.
 */
export interface RecentChangesFilter {
  /** Keeps those changed at or after it. */
  since?: Date;
  /** Keeps pages whose slug starts with it (common/slug.ts titlePrefixToSlugPrefix). */
  slugPrefix?: string;
  /** Keeps revisions this account (any case of its name) or, without an account, this author name took part in. */
  user?: string;
  /**
   * Hide revisions made by admins, by bots (User.bot), or by both, alone: a
   * revision groups several authors' flushes, and one anybody else took part
   * in holds their edit too, so it stays.
   */
  hideAdmins?: boolean;
  hideBots?: boolean;
}

/** Revisions across the wiki, newest first, that the filter keeps. */
export async function recentChanges(
  prisma: PrismaClient,
  options: RecentChangesFilter & { limit?: number } = {},
): Promise<RecentChange[]> {
  const limit = Math.min(options.limit ?? RECENT_CHANGES_DEFAULT_LIMIT, RECENT_CHANGES_MAX_LIMIT);
  const author = options.user === undefined ? undefined : await authorName(prisma, options.user);
  const hidden = options.hideAdmins || options.hideBots;
  // "Every author is hidden" (authors <@ hidden names) has no Prisma filter:
  // the ids are chosen in SQL, in the same newest-first order, and read by Prisma.
  const rows = await prisma.$queryRaw<{ id: string }[]>`
    SELECT r."id" FROM "Revision" r JOIN "Page" p ON p."id" = r."pageId"
    -- A deleted page's revisions leave the list with it (and come back on undelete).
    WHERE p."deletedAt" IS NULL
      AND ${options.since ? Prisma.sql`r."updatedAt" >= ${options.since}` : Prisma.sql`TRUE`}
      AND ${options.slugPrefix ? Prisma.sql`starts_with(p."slug", ${options.slugPrefix})` : Prisma.sql`TRUE`}
      AND ${author === undefined ? Prisma.sql`TRUE` : Prisma.sql`r."authors" @> ARRAY[${author}]::text[]`}
      AND ${
        hidden
          ? Prisma.sql`NOT (r."authors" <@ ARRAY(SELECT u."name" FROM "User" u WHERE (${Boolean(options.hideAdmins)} AND u."role" = 'admin') OR (${Boolean(options.hideBots)} AND u."bot")))`
          : Prisma.sql`TRUE`
      }
    ORDER BY r."updatedAt" DESC, r."id" DESC
    LIMIT ${limit}`;
  if (rows.length === 0) return [];
  // Timestamps are milliseconds and two revisions can share one: the id
  // keeps ties in the same order from one request to the next.
  const revisions = await prisma.revision.findMany({ where: { id: { in: rows.map((row) => row.id) } }, orderBy: NEWEST_FIRST, select: CHANGE });
  return revisions.map(changeOf);
}

/** The name revisions give `user` by: its account's, however the request cased it, else the name as asked. */
async function authorName(prisma: PrismaClient, user: string): Promise<string> {
  const account = await prisma.user.findUnique({ where: { nameKey: nameKeyOf(user) }, select: { name: true } });
  return account?.name ?? user;
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
