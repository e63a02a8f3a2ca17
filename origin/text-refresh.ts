import * as Y from "yjs";
import { linkedSlugs } from "../common/wikilinks";
import { Prisma, type PrismaClient } from "./generated/prisma/client";
import type { Slug } from "../common/slug";
import { pageText } from "../common/page-text";
import { lockPages, pageDoc, type StoredPage, type Transaction, tryLockPage } from "./page-log";
import { revisionText } from "./revisions";
import { startsNewRevision } from "./revision-grouping";
import { foldedState } from "./compaction";
import { textDelta } from "./text-delta";
import { watchAsAuthors } from "./watchlist";
import { refreshAllSearch } from "./search-refresh";

/**
 * The page's text, search vector, links and revisions, kept fresh off the
 * flush path: a page whose newest flushes are not in its text yet is
 * refreshed once it has been quiet for `quietMs`, or once its oldest
 * unrefreshed flush is `refreshMs` old, whichever comes first, so a hot
 * page's text is rewritten at most about every `refreshMs`, not at every
 * flush. Page reads do not wait for it (origin/pages.ts merges the newer
 * flushes itself); links, history and recent changes do, and search follows
 * the text on a longer bound of its own (origin/search-refresh.ts).
 */
export interface TextRefreshOptions {
  refreshMs: number;
  quietMs: number;
}

// 30 s: a refresh rewrites the page's whole text (peers bench: at 10 s,
// refreshes were most of Weirwood's WAL). Page reads never wait for it.
// Quiet means no flush for longer than the edges' flush interval (2 s by
// default, and two PoPs flush out of step): at 1 s a page flushed every 2 s
// was "quiet" between every two flushes and refreshed at each.
export const DEFAULT_TEXT_REFRESH: TextRefreshOptions = { refreshMs: 30_000, quietMs: 5_000 };

/** A revision's text is a delta, but a snapshot every so many revisions bounds what reading an old one costs. */
const SNAPSHOT_EVERY = 16;

export interface RefreshOutcome {
  slug: string;
  /** False when a flush held the page: it is tried again at the next tick. */
  refreshed: boolean;
  textChanged: boolean;
  revisionsOpened: number;
  compacted: boolean;
}

interface PageRow {
  id: string;
  slug: string;
  state: Uint8Array;
  baseSeq: bigint;
  textSeq: bigint;
  text: string;
  revisionCount: number;
}

interface FlushRow {
  seq: bigint;
  update: Uint8Array;
  editCount: number;
  authors: string[];
  pop: string;
  createdAt: Date;
}

interface OpenRevision {
  number: number;
  isNew: boolean;
  createdAt: Date;
  updatedAt: Date;
  authors: string[];
  pops: string[];
  editCount: number;
  lastSeq: bigint;
}

interface LatestRevisionRow {
  number: number;
  createdAt: Date;
  updatedAt: Date;
  authors: string[];
  pops: string[];
  editCount: number;
  lastSeq: bigint;
  open: boolean;
}

/**
 * Pages with flushes not in their text yet, oldest debt first, and in how
 * many milliseconds each is due by Postgres's clock (0 or less: now); only
 * those of `slugs` when given.
 */
export async function pendingPages(
  prisma: PrismaClient,
  options: TextRefreshOptions,
  slugs?: readonly string[],
  limit = 200,
): Promise<{ slug: string; dueInMs: number }[]> {
  return prisma.$queryRaw<{ slug: string; dueInMs: number }[]>`
    SELECT p.slug,
      (EXTRACT(EPOCH FROM LEAST(max(u."createdAt") + make_interval(secs => ${options.quietMs / 1000}),
                                min(u."createdAt") + make_interval(secs => ${options.refreshMs / 1000})) - now()) * 1000)::float8 AS "dueInMs"
    FROM "PageUpdate" u JOIN "Page" p ON p.id = u."pageId"
    WHERE u.seq > p."textSeq" AND ${slugs ? Prisma.sql`p.slug = ANY(${[...slugs]}::text[])` : Prisma.sql`TRUE`}
    GROUP BY p.id, p.slug
    ORDER BY min(u."createdAt")
    LIMIT ${limit}`;
}

/**
 * Brings one page's text, links and revisions up to its newest flush, and
 * compacts its rows into its base when that pays (compaction.ts), in one short
 * transaction under the page's lock (so never at the same time as a flush
 * of it or another origin's refresh of it).
 */
export async function refreshPage(prisma: PrismaClient, slug: string, options: { wait?: boolean } = {}): Promise<RefreshOutcome> {
  return prisma.$transaction(async (tx) => {
    const outcome: RefreshOutcome = { slug, refreshed: false, textChanged: false, revisionsOpened: 0, compacted: false };
    if (options.wait) await lockPages(tx, [slug as Slug]);
    else if (!(await tryLockPage(tx, slug))) return outcome;
    const page = (
      await tx.$queryRaw<PageRow[]>`
        SELECT id, slug, state, "baseSeq", "textSeq", text, "revisionCount" FROM "Page" WHERE slug = ${slug}`
    )[0];
    if (!page) return { ...outcome, refreshed: true };
    const rows = await tx.$queryRaw<FlushRow[]>`
      SELECT seq, update, "editCount", authors, pop, "createdAt"
      FROM "PageUpdate" WHERE "pageId" = ${page.id}::uuid AND seq > ${page.baseSeq} ORDER BY seq`;
    const textSeq = BigInt(page.textSeq);
    const stored: StoredPage = {
      id: page.id,
      slug: page.slug,
      state: page.state,
      baseSeq: BigInt(page.baseSeq),
      updates: rows.filter((row) => BigInt(row.seq) <= textSeq).map((row) => ({ seq: BigInt(row.seq), update: row.update })),
    };
    const doc = pageDoc(stored);
    try {
      const fresh = rows.filter((row) => BigInt(row.seq) > textSeq);
      const history = new HistoryWriter(tx, page);
      await history.load();
      let text = page.text;
      for (const row of fresh) {
        Y.applyUpdate(doc, row.update);
        const next = pageText(doc);
        await history.add(row, text, next);
        text = next;
      }
      outcome.revisionsOpened = await history.save(text);
      outcome.textChanged = text !== page.text;
      const newestSeq = rows.length > 0 ? BigInt(rows.at(-1)!.seq) : textSeq;
      const folded = foldedState(doc, page.state.byteLength, rows.map((row) => row.update));
      if (folded) {
        outcome.compacted = true;
        await tx.$executeRaw`
          UPDATE "Page" SET state = ${folded}, "stateVector" = ${Y.encodeStateVector(doc)}, "baseSeq" = ${newestSeq}
          WHERE id = ${page.id}::uuid`;
        await tx.$executeRaw`DELETE FROM "PageUpdate" WHERE "pageId" = ${page.id}::uuid AND seq <= ${newestSeq}`;
      }
      if (outcome.textChanged) {
        await tx.$executeRaw`
          UPDATE "Page" SET text = ${text}, "textSeq" = ${newestSeq}, "revisionCount" = ${history.revisionCount}, "updatedAt" = ${history.updatedAt}
          WHERE id = ${page.id}::uuid`;
        await refreshLinks(tx, page.id, page.text, text);
      } else if (newestSeq !== textSeq) {
        await tx.$executeRaw`UPDATE "Page" SET "textSeq" = ${newestSeq}, "revisionCount" = ${history.revisionCount} WHERE id = ${page.id}::uuid`;
      }
      outcome.refreshed = true;
      return outcome;
    } finally {
      doc.destroy();
    }
  });
}

async function refreshLinks(tx: Transaction, pageId: string, before: string, after: string): Promise<void> {
  const targets = linkedSlugs(after);
  const previous = linkedSlugs(before);
  // Most edits do not touch links: rewrite them only when they changed.
  if (targets.length === previous.length && targets.every((slug) => previous.includes(slug))) return;
  await tx.link.deleteMany({ where: { fromId: pageId } });
  if (targets.length > 0) await tx.link.createMany({ data: targets.map((toSlug) => ({ fromId: pageId, toSlug })) });
}

/**
 * Groups a page's new flushes into revisions (origin/revision-grouping.ts):
 * extends the open revision (the newest, whose text is the page's), or
 * closes it, storing its text as a delta against the one before it (or a
 * snapshot), and opens the next.
 */
class HistoryWriter {
  revisionCount: number;
  updatedAt: Date = new Date();
  private open: OpenRevision | undefined;
  /** Texts of revisions closed in this refresh, by number, for the delta of the next. */
  private readonly closedTexts = new Map<number, string>();
  private readonly closed: { number: number; text: string }[] = [];
  private opened = 0;
  /** Authors a revision names for the first time in this refresh: they watch the page. */
  private readonly newAuthors = new Set<string>();

  constructor(
    private readonly tx: Transaction,
    private readonly page: PageRow,
  ) {
    this.revisionCount = page.revisionCount;
  }

  async load(): Promise<void> {
    const latest = (
      await this.tx.$queryRaw<LatestRevisionRow[]>`
        SELECT number, "createdAt", "updatedAt", authors, pops, "editCount", "lastSeq", (snapshot IS NULL AND delta IS NULL) AS open
        FROM "Revision" WHERE "pageId" = ${this.page.id}::uuid ORDER BY number DESC LIMIT 1`
    )[0];
    if (latest?.open) this.open = { ...latest, lastSeq: BigInt(latest.lastSeq), isNew: false };
    if (latest) this.updatedAt = latest.updatedAt;
  }

  /** One flush, which took the text from `before` to `after`. */
  async add(row: FlushRow, before: string, after: string): Promise<void> {
    // A flush that leaves the text as it was (formatting-free Yjs changes,
    // a deletion already made) joins the open revision and never opens one.
    if (after !== before && startsNewRevision(this.open, row)) {
      // Without an open revision the newest is closed already (a migrated one, holding its snapshot).
      if (this.open) this.closed.push({ number: this.open.number, text: before });
      await this.writeOpen();
      this.revisionCount += 1;
      this.opened += 1;
      for (const author of row.authors) this.newAuthors.add(author);
      this.open = {
        number: this.revisionCount,
        isNew: true,
        createdAt: row.createdAt,
        updatedAt: row.createdAt,
        authors: [...row.authors],
        pops: [row.pop],
        editCount: row.editCount,
        lastSeq: BigInt(row.seq),
      };
    } else if (this.open) {
      this.open.updatedAt = row.createdAt;
      this.open.editCount += row.editCount;
      this.open.lastSeq = BigInt(row.seq);
      for (const author of row.authors) {
        if (this.open.authors.includes(author)) continue;
        this.open.authors.push(author);
        this.newAuthors.add(author);
      }
      if (!this.open.pops.includes(row.pop)) this.open.pops.push(row.pop);
    }
    if (this.open) this.updatedAt = this.open.updatedAt;
  }

  /** Writes what changed; `text` is the newest text (the open revision's). Returns how many revisions were opened. */
  async save(text: string): Promise<number> {
    await this.writeOpen(text);
    for (const closed of this.closed) await this.close(closed.number, closed.text);
    await watchAsAuthors(this.tx, this.page.id, this.newAuthors);
    return this.opened;
  }

  private async writeOpen(text?: string): Promise<void> {
    const open = this.open;
    if (!open) return;
    const bytes = text === undefined ? 0 : Buffer.byteLength(text, "utf8");
    if (open.isNew) {
      await this.tx.revision.create({
        data: {
          pageId: this.page.id,
          number: open.number,
          bytes,
          editCount: open.editCount,
          authors: open.authors,
          pops: open.pops,
          lastSeq: open.lastSeq,
          createdAt: open.createdAt,
          updatedAt: open.updatedAt,
        },
        select: { id: true },
      });
      open.isNew = false;
    } else {
      await this.tx.revision.update({
        where: { pageId_number: { pageId: this.page.id, number: open.number } },
        data: { bytes: text === undefined ? undefined : bytes, editCount: open.editCount, authors: open.authors, pops: open.pops, lastSeq: open.lastSeq, updatedAt: open.updatedAt },
        select: { id: true },
      });
    }
  }

  /** Stores a closed revision's text: a snapshot every SNAPSHOT_EVERY, else a delta against its predecessor. */
  private async close(number: number, text: string): Promise<void> {
    this.closedTexts.set(number, text);
    let content: { snapshot: string } | { delta: string } = { snapshot: text };
    if (number % SNAPSHOT_EVERY !== 1 && number > 1) {
      const previous = this.closedTexts.get(number - 1) ?? (await revisionText(this.tx, this.page.id, number - 1));
      const delta = JSON.stringify(textDelta(previous, text));
      if (delta.length < text.length / 2) content = { delta };
    }
    // Only a revision without content is closed: a migrated revision keeps its snapshot.
    await this.tx.revision.updateMany({
      where: { pageId: this.page.id, number, snapshot: null, delta: null },
      data: { ...content, bytes: Buffer.byteLength(text, "utf8") },
    });
  }
}

/**
 * Refreshes every page with unrefreshed flushes now, whatever the bounds,
 * and (unless `search` is false) its search copy: tests, benches and shutdown.
 */
export async function refreshAllPages(prisma: PrismaClient, options: { search?: boolean } = {}): Promise<RefreshOutcome[]> {
  const outcomes: RefreshOutcome[] = [];
  for (const { slug } of await pendingPages(prisma, { refreshMs: 0, quietMs: 0 }, undefined, 100_000)) outcomes.push(await refreshPage(prisma, slug, { wait: true }));
  if (options.search !== false) await refreshAllSearch(prisma);
  return outcomes;
}
