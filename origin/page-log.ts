import * as Y from "yjs";
import type { Slug } from "../common/slug";
import type { PrismaClient } from "./generated/prisma/client";

/**
 * A page's stored Yjs state is its compacted base (Page.state, holding every
 * PageUpdate up to Page.baseSeq) plus the PageUpdate rows after baseSeq, one
 * per flush that changed the page. Flushes append rows; compaction
 * (origin/text-refresh.ts) folds them into the base. Everything that reads a
 * page's state goes through here.
 */
export type Transaction = Parameters<Parameters<PrismaClient["$transaction"]>[0]>[0];
type Queryable = Pick<PrismaClient, "$queryRaw" | "$executeRaw">;

export interface LoggedUpdate {
  seq: bigint;
  update: Uint8Array;
}

export interface StoredPage {
  id: string;
  slug: string;
  state: Uint8Array;
  baseSeq: bigint;
  updates: LoggedUpdate[];
}

/** The page's version: the newest PageUpdate seq (or the base's, once compacted). */
export function headSeq(page: StoredPage): bigint {
  return page.updates.at(-1)?.seq ?? page.baseSeq;
}

/**
 * Flushes of one page, and its compaction, run one at a time, in whichever
 * origin process: a transaction-scoped advisory lock per page, which unlike
 * `SELECT ... FOR UPDATE` writes nothing to the WAL. Taken in key order so
 * that two batches sharing pages cannot deadlock.
 */
export async function lockPages(tx: Transaction, slugs: readonly Slug[]): Promise<void> {
  if (slugs.length === 0) return;
  await tx.$queryRaw`
    SELECT count(pg_advisory_xact_lock(key))::int AS locked FROM (
      SELECT hashtextextended('weirwood.page:' || slug, 0) AS key FROM unnest(${[...slugs]}::text[]) AS slug ORDER BY key
    ) AS keys`;
}

/** Like lockPages for one page, but gives up at once when a flush holds it. */
export async function tryLockPage(tx: Transaction, slug: string): Promise<boolean> {
  const rows = await tx.$queryRaw<{ locked: boolean }[]>`
    SELECT pg_try_advisory_xact_lock(hashtextextended('weirwood.page:' || ${slug}, 0)) AS locked`;
  return rows[0]?.locked === true;
}

export interface PageHead {
  id: string;
  slug: string;
  baseSeq: bigint;
  /** The page's version: its newest row's seq, or the base's. */
  headSeq: bigint;
}

/** Which of `slugs` are stored, at which version, without reading their state. */
export async function readPageHeads(db: Queryable, slugs: readonly string[]): Promise<Map<string, PageHead>> {
  const heads = new Map<string, PageHead>();
  if (slugs.length === 0) return heads;
  const rows = await db.$queryRaw<{ id: string; slug: string; baseSeq: bigint; headSeq: bigint }[]>`
    SELECT p.id, p.slug, p."baseSeq", COALESCE(max(u.seq), p."baseSeq") AS "headSeq"
    FROM "Page" p LEFT JOIN "PageUpdate" u ON u."pageId" = p.id AND u.seq > p."baseSeq"
    WHERE p.slug = ANY(${[...slugs]}::text[])
    GROUP BY p.id`;
  for (const row of rows) heads.set(row.slug, { id: row.id, slug: row.slug, baseSeq: BigInt(row.baseSeq), headSeq: BigInt(row.headSeq) });
  return heads;
}

/** The stored pages among `slugs`, each with its rows after the base. */
export async function readStoredPages(db: Queryable, slugs: readonly string[]): Promise<Map<string, StoredPage>> {
  const pages = new Map<string, StoredPage>();
  if (slugs.length === 0) return pages;
  const rows = await db.$queryRaw<{ id: string; slug: string; state: Uint8Array; baseSeq: bigint }[]>`
    SELECT id, slug, state, "baseSeq" FROM "Page" WHERE slug = ANY(${[...slugs]}::text[])`;
  if (rows.length === 0) return pages;
  const byId = new Map<string, StoredPage>();
  for (const row of rows) {
    const page: StoredPage = { id: row.id, slug: row.slug, state: row.state, baseSeq: BigInt(row.baseSeq), updates: [] };
    pages.set(row.slug, page);
    byId.set(row.id, page);
  }
  const updates = await db.$queryRaw<{ pageId: string; seq: bigint; update: Uint8Array }[]>`
    SELECT u."pageId", u.seq, u.update
    FROM "PageUpdate" u JOIN "Page" p ON p.id = u."pageId"
    WHERE p.id = ANY(${[...byId.keys()]}::uuid[]) AND u.seq > p."baseSeq"
    ORDER BY u."pageId", u.seq`;
  for (const row of updates) byId.get(row.pageId)!.updates.push({ seq: BigInt(row.seq), update: row.update });
  return pages;
}

export async function readStoredPage(db: Queryable, slug: string): Promise<StoredPage | undefined> {
  return (await readStoredPages(db, [slug])).get(slug);
}

/** The page as one Yjs document (the caller destroys it). */
export function pageDoc(page: StoredPage | undefined): Y.Doc {
  const doc = new Y.Doc();
  if (!page) return doc;
  // One transaction for the base and every row: Yjs' per-transaction cleanup
  // (merging adjacent structs) then runs once.
  doc.transact(() => {
    Y.applyUpdate(doc, page.state);
    for (const row of page.updates) Y.applyUpdate(doc, row.update);
  });
  return doc;
}

/** The page as one encoded Yjs update, without building a document. */
export function pageUpdate(page: StoredPage): Uint8Array {
  return page.updates.length === 0 ? page.state : Y.mergeUpdates([page.state, ...page.updates.map((row) => row.update)]);
}
