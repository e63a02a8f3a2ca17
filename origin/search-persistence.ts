import type { PrismaClient } from "./generated/prisma/client";

/**
 * Whether Postgres writes the search copies (PageSearch and its GIN index) to
 * its WAL.
 *
 * Search is derived data: every row is a copy of a page's title and text,
 * retaken by origin/search-refresh.ts whenever it is missing. Logged, it was
 * ~85% of what the origin wrote to WAL under a write spike (docs/benchmarks.md,
 * 2026-12-04): a GIN index folds each new distinct word into its tree at
 * ~160 bytes of WAL, plus full-page images, so indexing a crowd's page of
 * 10,000 new words costs ~1.8 MB however small the edits were. Unlogged, the
 * copies cost no WAL at all.
 *
 * What unlogged gives up: after a crash (not a clean stop) Postgres empties
 * the table, and a streaming standby has none of it (a promoted standby
 * starts empty). The origin then re-copies every page in the background, a
 * few hundred pages per second, and search finds fewer pages until it has;
 * page reads, history and edits are unaffected. Operators who serve search
 * from a standby, or cannot accept that window, set ORIGIN_SEARCH_LOGGED=on.
 */
export type SearchPersistence = "logged" | "unlogged";

/** Makes PageSearch logged or unlogged as configured; returns whether it had to change it. */
export async function applySearchPersistence(prisma: PrismaClient, wanted: SearchPersistence): Promise<boolean> {
  if ((await searchPersistence(prisma)) === wanted) return false;
  // Rewrites the table (and its indexes) under an exclusive lock: once, at the
  // first start after the setting changed. Two origins starting together both
  // rewrite, one after the other, to the same end.
  if (wanted === "unlogged") await prisma.$executeRawUnsafe(`ALTER TABLE "PageSearch" SET UNLOGGED`);
  else await prisma.$executeRawUnsafe(`ALTER TABLE "PageSearch" SET LOGGED`);
  return true;
}

export async function searchPersistence(prisma: PrismaClient): Promise<SearchPersistence> {
  const rows = await prisma.$queryRaw<{ relpersistence: string }[]>`
    SELECT relpersistence::text AS relpersistence FROM pg_class WHERE oid = to_regclass('"PageSearch"')`;
  const persistence = rows[0]?.relpersistence;
  if (persistence === undefined) throw new Error('search persistence: no table "PageSearch" in the current schema (are the migrations applied?)');
  return persistence === "u" ? "unlogged" : "logged";
}

/** Pages that have no search copy yet: all of them after a crash emptied the unlogged table. */
export async function pagesWithoutSearchCopy(prisma: PrismaClient): Promise<number> {
  const rows = await prisma.$queryRaw<{ count: bigint }[]>`
    SELECT count(*) AS count FROM "Page" p WHERE NOT EXISTS (SELECT 1 FROM "PageSearch" s WHERE s."pageId" = p.id)`;
  return Number(rows[0]?.count ?? 0);
}
