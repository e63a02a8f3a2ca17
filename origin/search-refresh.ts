import type { PrismaClient } from "./generated/prisma/client";

/**
 * Search reads a copy of each page's title and text (PageSearch), taken off
 * the flush path and less often than the text itself: indexing a page costs
 * Postgres per distinct word of the page (a GIN index re-inserts every key of
 * a new row version and later folds its pending list into the tree, ~1.4 MB
 * of WAL for a page of 10,000 distinct words), whatever the edit changed.
 *
 * A page's copy is taken
 * - within a second when the page has none, so a new page is found by its
 *   title (origin/text-refresh.ts runs this pass once a second),
 * - when its text was refreshed and the page has been quiet for `quietMs`
 *   (editing stopped: the text refresh's own quiet bound),
 * - and, for a page that keeps being edited, when the copy is `refreshMs`
 *   old: so a hot page is re-indexed minutes apart, not at every text refresh.
 */
export interface SearchRefreshOptions {
  refreshMs: number;
  quietMs: number;
}

export const DEFAULT_SEARCH_REFRESH: SearchRefreshOptions = { refreshMs: 5 * 60_000, quietMs: 5_000 };

/** Ids of the pages whose search copy is due, oldest copy first. */
export async function dueSearchPages(prisma: PrismaClient, options: SearchRefreshOptions, limit = 200): Promise<string[]> {
  const rows = await prisma.$queryRaw<{ id: string }[]>`
    SELECT p.id
    FROM "Page" p LEFT JOIN "PageSearch" s ON s."pageId" = p.id
    WHERE s."pageId" IS NULL
       OR (s."textSeq" < p."textSeq" AND (
            s."updatedAt" <= now() - make_interval(secs => ${options.refreshMs / 1000})
            OR (p."updatedAt" <= now() - make_interval(secs => ${options.quietMs / 1000})
                AND NOT EXISTS (SELECT 1 FROM "PageUpdate" u WHERE u."pageId" = p.id AND u.seq > p."textSeq"))))
    ORDER BY s."updatedAt" NULLS FIRST
    LIMIT ${limit}`;
  return rows.map((row) => row.id);
}

/**
 * Takes a page's copy for search, in one statement (so from one snapshot of
 * the page, and safe beside another origin doing the same). A copy whose text
 * and title did not change only moves its seq: that update touches no indexed
 * column, so Postgres writes it as a heap-only tuple and the GIN index is
 * left alone. Returns whether the copy's text or title changed.
 */
export async function refreshSearch(prisma: PrismaClient, pageId: string): Promise<boolean> {
  const copied = await prisma.$executeRaw`
    INSERT INTO "PageSearch" ("pageId", title, text, "textSeq", "updatedAt")
    SELECT id, title, text, "textSeq", now() FROM "Page" WHERE id = ${pageId}::uuid
    ON CONFLICT ("pageId") DO UPDATE
      SET title = EXCLUDED.title, text = EXCLUDED.text, "textSeq" = EXCLUDED."textSeq", "updatedAt" = EXCLUDED."updatedAt"
      WHERE "PageSearch".text IS DISTINCT FROM EXCLUDED.text OR "PageSearch".title IS DISTINCT FROM EXCLUDED.title`;
  if (copied > 0) return true;
  await prisma.$executeRaw`
    UPDATE "PageSearch" s SET "textSeq" = p."textSeq", "updatedAt" = now()
    FROM "Page" p WHERE p.id = s."pageId" AND s."pageId" = ${pageId}::uuid AND s."textSeq" < p."textSeq"`;
  return false;
}

/** Takes every due search copy now, whatever the bounds: tests, benches and shutdown. Returns how many changed. */
export async function refreshAllSearch(prisma: PrismaClient): Promise<number> {
  let changed = 0;
  for (const pageId of await dueSearchPages(prisma, { refreshMs: 0, quietMs: 0 }, 100_000)) if (await refreshSearch(prisma, pageId)) changed += 1;
  return changed;
}
