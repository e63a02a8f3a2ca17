// Origin merge cost: pages merged per second and, per page flush, the bytes
// of WAL and the tuples Postgres wrote, for batches of 1, 50 and 500 pages of
// ~5 KB and of 1 and 50 pages of ~200 KB carrying the same small diff, so
// that whether a flush costs in proportion to its diff or to its page shows.
// The text refresh (text, search vector, links, revisions, compaction) runs
// off the flush path: the bench runs it after every REFRESH_EVERY rounds, as
// a hot page flushed and refreshed at the default intervals gets it, and reports
// its WAL apart and amortized over the flushes.
//
//   npm run bench:origin                    # a private Postgres cluster (its WAL is ours alone)
//   npm run bench:origin -- --url postgres://postgres@127.0.0.1:5432/postgres   # a shared server: WAL counts everyone
//   npm run bench:origin -- --pglite        # the embedded database (no WAL figures)
//   npm run bench:origin -- --seconds 20    # longer runs per point
//   npm run bench:origin -- --search-logged # search copies in the WAL (ORIGIN_SEARCH_LOGGED=on)
//
// Writes reports/bench-origin.json and prints a table. Not a test: these
// machines are shared and noisy, so the figures go to docs/benchmarks.md
// with the date, not into assertions.
import { randomUUID } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import pg from "pg";
import * as Y from "yjs";
import { startPrivatePostgres } from "../support/private-postgres";
import { type FlushBatch, toBase64 } from "../../protocol/flush";
import { createScratchDatabase } from "../../prisma/scratch-database";
import { edgeEnvSchema } from "../../edge/config";
import { originEnvSchema } from "../../origin/config";
import { type Database, openDatabase } from "../../origin/db";
import { mergeBatch } from "../../origin/merge";
import { applySearchPersistence } from "../../origin/search-persistence";
import { refreshAllSearch } from "../../origin/search-refresh";
import { refreshAllPages } from "../../origin/text-refresh";

const { values: args } = parseArgs({
  options: {
    pglite: { type: "boolean", default: false },
    url: { type: "string" },
    seconds: { type: "string", default: "8" },
    points: { type: "string", default: "5:1,5:50,5:500,200:1,200:50" },
    "history-minutes": { type: "string", default: "10" },
    out: { type: "string", default: "reports/bench-origin.json" },
    "search-logged": { type: "boolean", default: false },
  },
});
const secondsPerPoint = Number(args.seconds);
/** `KB:pages` pairs: page size in KB, pages per batch. */
const points = args.points.split(",").map((pair) => {
  const [kb, pages] = pair.split(":").map(Number);
  return { pageKb: kb!, pagesPerBatch: pages! };
});

/** Each page gets this many one-character inserts and as many deletes per flush. */
const EDITS_PER_FLUSH = 20;
/** A hot page's flushes per text refresh at the defaults: ORIGIN_TEXT_REFRESH_MS over EDGE_FLUSH_MS. */
const REFRESH_EVERY = Math.round(
  originEnvSchema.shape.ORIGIN_TEXT_REFRESH_MS.parse(undefined) / edgeEnvSchema.shape.EDGE_FLUSH_MS.parse(undefined),
);

/** A hot page's flushes per search re-index at the defaults: ORIGIN_SEARCH_REFRESH_MS over EDGE_FLUSH_MS. */
const SEARCH_EVERY = Math.round(
  originEnvSchema.shape.ORIGIN_SEARCH_REFRESH_MS.parse(undefined) / edgeEnvSchema.shape.EDGE_FLUSH_MS.parse(undefined),
);

/** A page as an edge holds it: text typed in small edits. */
interface EdgePage {
  slug: string;
  doc: Y.Doc;
  acknowledged: Uint8Array;
}

function buildPage(index: number, bytes: number): EdgePage {
  const doc = new Y.Doc();
  const text = doc.getText("body");
  while (text.length < bytes) text.insert(text.length, `Edit ${text.length} of page ${index}.\n`);
  return { slug: `Bench_page_${index}`, doc, acknowledged: new Uint8Array([0]) };
}

function typeSome(page: EdgePage): void {
  const text = page.doc.getText("body");
  for (let i = 0; i < EDITS_PER_FLUSH; i++) {
    text.insert(Math.floor(Math.random() * text.length), "x");
    text.delete(Math.floor(Math.random() * (text.length - 1)), 1);
  }
}

function batchFor(pages: EdgePage[]): { batch: FlushBatch; bytes: number } {
  let bytes = 0;
  const batch: FlushBatch = {
    batchId: `bench-${randomUUID()}`,
    pop: "bench",
    edge: "bench-a",
    pages: pages.map((page) => {
      const update = Y.encodeStateAsUpdate(page.doc, page.acknowledged);
      bytes += update.byteLength;
      return {
        slug: page.slug,
        update: toBase64(update),
        stateVector: toBase64(Y.encodeStateVector(page.doc)),
        editCount: EDITS_PER_FLUSH * 2,
        authors: ["Bench"],
      };
    }),
  };
  return { batch, bytes };
}

interface BenchDatabase {
  db: Database;
  label: string;
  /** A connection of its own for WAL and statistics; undefined on PGlite. */
  stats: pg.Client | undefined;
  /** The private cluster's CPU seconds so far; undefined on a shared server or PGlite. */
  serverCpuSeconds: (() => number) | undefined;
  databaseName: string;
  close(): Promise<void>;
}

async function openBenchDatabase(): Promise<BenchDatabase> {
  if (args.pglite) {
    const db = await openDatabase({ kind: "pglite", dataDir: undefined });
    await db.migrate();
    return { db, label: "PGlite (in memory)", stats: undefined, serverCpuSeconds: undefined, databaseName: "", close: () => db.close() };
  }
  const server = args.url ? undefined : await startPrivatePostgres();
  const serverUrl = args.url ?? server!.url;
  const scratch = await createScratchDatabase(serverUrl, "weirwood_bench");
  const db = await openDatabase({ kind: "postgres", url: scratch.url });
  await db.migrate();
  // As the origin does at start-up (origin/runtime.ts).
  await applySearchPersistence(db.prisma, args["search-logged"] ? "logged" : "unlogged");
  const stats = new pg.Client({ connectionString: scratch.url });
  await stats.connect();
  const host = new URL(scratch.url).host;
  return {
    db,
    label: `${server ? `a private Postgres cluster (${host})` : `Postgres ${host} (shared: its WAL counts every writer)`}, search copies ${args["search-logged"] ? "logged" : "unlogged"}`,
    stats,
    serverCpuSeconds: server?.cpuSeconds,
    databaseName: scratch.name,
    async close() {
      await stats.end();
      await db.close();
      await scratch.drop();
      await server?.stop();
    },
  };
}

interface Counters {
  walLsn: string;
  tuples: number;
  transactions: number;
}

async function readCounters(bench: BenchDatabase): Promise<Counters | undefined> {
  if (!bench.stats) return undefined;
  // Backends report their statistics at most once a second.
  await new Promise((resolve) => setTimeout(resolve, 1100));
  const { rows } = await bench.stats.query<{ lsn: string; tuples: string; xact: string }>(
    `SELECT pg_current_wal_lsn()::text AS lsn,
            (tup_inserted + tup_updated + tup_deleted)::text AS tuples,
            xact_commit::text AS xact
     FROM pg_stat_database WHERE datname = $1`,
    [bench.databaseName],
  );
  const row = rows[0]!;
  return { walLsn: row.lsn, tuples: Number(row.tuples), transactions: Number(row.xact) };
}

async function walLsn(bench: BenchDatabase): Promise<string | undefined> {
  if (!bench.stats) return undefined;
  const { rows } = await bench.stats.query<{ lsn: string }>("SELECT pg_current_wal_lsn()::text AS lsn");
  return rows[0]!.lsn;
}

async function walBetween(bench: BenchDatabase, from: Pick<Counters, "walLsn">, to: Pick<Counters, "walLsn">): Promise<number> {
  const { rows } = await bench.stats!.query<{ bytes: string }>("SELECT pg_wal_lsn_diff($1::pg_lsn, $2::pg_lsn)::text AS bytes", [
    to.walLsn,
    from.walLsn,
  ]);
  return Number(rows[0]!.bytes);
}

interface PointResult {
  pageKb: number;
  pagesPerBatch: number;
  batches: number;
  pageFlushes: number;
  seconds: number;
  pagesPerSec: number;
  batchMs: { p50: number; p99: number; max: number };
  /** Bytes of Yjs diff a page flush carried, on average. */
  diffBytesPerPageFlush: number;
  /** The flush transactions alone. */
  walBytesPerPageFlush: number | undefined;
  /** One refresh of one page (text, search vector, links, revision, compaction when due). */
  walBytesPerPageRefresh: number | undefined;
  /** Flushes and refreshes together, over the page flushes. */
  walBytesPerPageFlushAllIn: number | undefined;
  walBytesPerEdit: number | undefined;
  refreshPagesPerSec: number;
  /** WAL of one page's search re-index (its pending-list insert; the fold into the GIN tree comes at VACUUM), when the point ran long enough for one. */
  walBytesPerSearchReindex: number | undefined;
  /** CPU per page flush, refreshes included: this process (the origin's merge) and the private Postgres cluster. */
  cpuMsPerPageFlush: { origin: number; postgres: number | undefined };
  tuplesPerPageFlush: number | undefined;
  /** WAL per page flush against the target: 2 x diff + 16 KB. */
  walTargetBytes: number;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

async function runPoint(bench: BenchDatabase, point: { pageKb: number; pagesPerBatch: number }, offset: number): Promise<PointResult> {
  const pages = Array.from({ length: point.pagesPerBatch }, (_, i) => buildPage(offset + i, point.pageKb * 1024));
  // The first flush creates the pages with their whole text; measured
  // flushes then carry what was typed since, as a running edge's do.
  const created = await mergeBatch(bench.db.prisma, batchFor(pages).batch);
  created.answer.pages.forEach((answer, i) => (pages[i]!.acknowledged = Buffer.from(answer.stateVector, "base64")));
  await refreshAllPages(bench.db.prisma);
  let flushWal = 0;
  let refreshWal = 0;
  let refreshedPages = 0;
  let refreshMs = 0;
  let searchWal = 0;
  let reindexedPages = 0;

  const before = await readCounters(bench);
  const originCpu0 = process.cpuUsage();
  const postgresCpu0 = bench.serverCpuSeconds?.();
  const durations: number[] = [];
  let diffBytes = 0;
  const started = performance.now();
  while (performance.now() - started < secondsPerPoint * 1000 || durations.length < 3) {
    for (const page of pages) typeSome(page);
    const { batch, bytes } = batchFor(pages);
    const lsn0 = await walLsn(bench);
    const t0 = performance.now();
    const { answer } = await mergeBatch(bench.db.prisma, batch);
    durations.push(performance.now() - t0);
    const lsn1 = await walLsn(bench);
    if (lsn0 && lsn1) flushWal += await walBetween(bench, { walLsn: lsn0 }, { walLsn: lsn1 });
    diffBytes += bytes;
    answer.pages.forEach((page, i) => (pages[i]!.acknowledged = Buffer.from(page.stateVector, "base64")));
    if (durations.length % REFRESH_EVERY === 0) {
      const r0 = performance.now();
      refreshedPages += (await refreshAllPages(bench.db.prisma, { search: false })).length;
      refreshMs += performance.now() - r0;
      const lsn2 = await walLsn(bench);
      if (lsn1 && lsn2) refreshWal += await walBetween(bench, { walLsn: lsn1 }, { walLsn: lsn2 });
    }
    if (durations.length % SEARCH_EVERY === 0) {
      const lsn3 = await walLsn(bench);
      reindexedPages += await refreshAllSearch(bench.db.prisma);
      const lsn4 = await walLsn(bench);
      if (lsn3 && lsn4) searchWal += await walBetween(bench, { walLsn: lsn3 }, { walLsn: lsn4 });
    }
  }
  const originCpu = process.cpuUsage(originCpu0);
  const postgresCpu = postgresCpu0 === undefined ? undefined : bench.serverCpuSeconds!() - postgresCpu0;
  const after = await readCounters(bench);
  const pageFlushes = durations.length * point.pagesPerBatch;
  const wal = before && after ? await walBetween(bench, before, after) : undefined;
  const mergeSeconds = durations.reduce((a, b) => a + b, 0) / 1000;
  const sorted = [...durations].sort((a, b) => a - b);
  const diffBytesPerPageFlush = Math.round(diffBytes / pageFlushes);
  for (const page of pages) page.doc.destroy();
  return {
    ...point,
    batches: durations.length,
    pageFlushes,
    seconds: Number(mergeSeconds.toFixed(2)),
    pagesPerSec: Math.round(pageFlushes / mergeSeconds),
    batchMs: {
      p50: Number(percentile(sorted, 50).toFixed(1)),
      p99: Number(percentile(sorted, 99).toFixed(1)),
      max: Number((sorted.at(-1) ?? 0).toFixed(1)),
    },
    diffBytesPerPageFlush,
    walBytesPerPageFlush: bench.stats ? Math.round(flushWal / pageFlushes) : undefined,
    walBytesPerPageRefresh: bench.stats && refreshedPages > 0 ? Math.round(refreshWal / refreshedPages) : undefined,
    walBytesPerSearchReindex: bench.stats && reindexedPages > 0 ? Math.round(searchWal / reindexedPages) : undefined,
    walBytesPerPageFlushAllIn: wal === undefined ? undefined : Math.round(wal / pageFlushes),
    cpuMsPerPageFlush: {
      origin: Number(((originCpu.user + originCpu.system) / 1000 / pageFlushes).toFixed(3)),
      postgres: postgresCpu === undefined ? undefined : Number(((postgresCpu * 1000) / pageFlushes).toFixed(3)),
    },
    refreshPagesPerSec: refreshMs > 0 ? Math.round(refreshedPages / (refreshMs / 1000)) : 0,
    walBytesPerEdit: wal === undefined ? undefined : Number((wal / pageFlushes / (EDITS_PER_FLUSH * 2)).toFixed(1)),
    tuplesPerPageFlush: before && after ? Number(((after.tuples - before.tuples) / pageFlushes).toFixed(2)) : undefined,
    walTargetBytes: 2 * diffBytesPerPageFlush + 16 * 1024,
  };
}

interface HistoryResult {
  minutes: number;
  editors: number;
  flushes: number;
  revisions: number;
  /** Characters the crowd typed (each one byte): what changed. */
  bytesChanged: number;
  /** Bytes of revision text stored (snapshots and deltas), and the Revision table's size on disk. */
  revisionTextBytes: number;
  revisionTableBytes: number;
}

/**
 * A page edited continuously for `minutes` by a crowd, flushed every 2 s
 * (flush times set back so the grouping sees a real crowd's clock), refreshed
 * every 10 s: how many revisions it gets and what its history costs.
 */
async function runHistory(bench: BenchDatabase, minutes: number, editors: number): Promise<HistoryResult> {
  const doc = new Y.Doc();
  const text = doc.getText("body");
  for (let line = 0; line < editors; line++) text.insert(text.length, `Editor ${line} writes here.\n`);
  const page: EdgePage = { slug: "Bench_history", doc, acknowledged: new Uint8Array([0]) };
  const flushes = (minutes * 60) / 2;
  const startedAt = Date.now() - minutes * 60_000;
  let bytesChanged = 0;
  let word = 0;
  const prisma = bench.db.prisma;
  for (let flush = 0; flush < flushes; flush++) {
    const authors: string[] = [];
    for (let k = 0; k < 20; k++) {
      const editor = Math.floor(Math.random() * editors);
      const lineEnd = text.toString().split("\n").slice(0, editor + 1).join("\n").length;
      const typed = ` w${word++}`;
      text.insert(lineEnd, typed);
      bytesChanged += typed.length;
      authors.push(`Editor${editor}`);
    }
    const { batch } = batchFor([page]);
    batch.pages[0]!.authors = [...new Set(authors)];
    const { answer } = await mergeBatch(prisma, batch);
    page.acknowledged = Buffer.from(answer.pages[0]!.stateVector, "base64");
    const at = new Date(startedAt + flush * 2000);
    await prisma.$executeRaw`
      UPDATE "PageUpdate" u SET "createdAt" = ${at} FROM "Page" p
      WHERE p.id = u."pageId" AND p.slug = ${page.slug} AND u.seq = ${BigInt(answer.pages[0]!.revision)}`;
    if (flush % REFRESH_EVERY === REFRESH_EVERY - 1) await refreshAllPages(prisma, { search: false });
  }
  await refreshAllPages(prisma);
  const [row] = await prisma.$queryRaw<{ revisions: number; textBytes: number; tableBytes: number }[]>`
    SELECT count(*)::int AS revisions,
           COALESCE(sum(COALESCE(octet_length(r.snapshot), 0) + COALESCE(octet_length(r.delta), 0)), 0)::int AS "textBytes",
           pg_total_relation_size('"Revision"')::int AS "tableBytes"
    FROM "Revision" r JOIN "Page" p ON p.id = r."pageId" WHERE p.slug = ${page.slug}`;
  doc.destroy();
  return { minutes, editors, flushes, revisions: row!.revisions, bytesChanged, revisionTextBytes: row!.textBytes, revisionTableBytes: row!.tableBytes };
}

const bench = await openBenchDatabase();
try {
  const results: PointResult[] = [];
  let offset = 0;
  for (const point of points) {
    process.stdout.write(`merging batches of ${point.pagesPerBatch} page(s) of ~${point.pageKb} KB for ${secondsPerPoint} s on ${bench.label}... `);
    const result = await runPoint(bench, point, offset);
    offset += point.pagesPerBatch;
    results.push(result);
    console.log(`${result.pagesPerSec} pages/s`);
  }
  const kb = (bytes: number | undefined) => (bytes === undefined ? "-" : (bytes / 1024).toFixed(1));
  const columns: [string, (r: PointResult) => string | number][] = [
    ["page KB", (r) => r.pageKb],
    ["pages/batch", (r) => r.pagesPerBatch],
    ["batches", (r) => r.batches],
    ["pages/s", (r) => r.pagesPerSec],
    ["batch p50 ms", (r) => r.batchMs.p50],
    ["p99 ms", (r) => r.batchMs.p99],
    ["diff KB/flush", (r) => kb(r.diffBytesPerPageFlush)],
    ["WAL KB/flush", (r) => kb(r.walBytesPerPageFlush)],
    ["target KB", (r) => kb(r.walTargetBytes)],
    ["WAL KB/refresh", (r) => kb(r.walBytesPerPageRefresh)],
    ["WAL KB/re-index", (r) => kb(r.walBytesPerSearchReindex)],
    ["all-in KB/flush", (r) => kb(r.walBytesPerPageFlushAllIn)],
    ["tuples/flush", (r) => r.tuplesPerPageFlush ?? "-"],
    ["refreshes/s", (r) => r.refreshPagesPerSec],
    ["origin CPU ms/flush", (r) => r.cpuMsPerPageFlush.origin],
    ["Postgres CPU ms/flush", (r) => r.cpuMsPerPageFlush.postgres ?? "-"],
  ];
  console.log("\n" + columns.map(([name]) => name.padStart(Math.max(9, name.length + 2))).join(""));
  for (const r of results) console.log(columns.map(([name, value]) => String(value(r)).padStart(Math.max(9, name.length + 2))).join(""));
  process.stdout.write(`\na page edited for ${args["history-minutes"]} simulated minutes by 100 editors... `);
  const history = await runHistory(bench, Number(args["history-minutes"]), 100);
  console.log(
    `${history.revisions} revisions over ${history.flushes} flushes; ${history.bytesChanged} bytes typed, ` +
      `${history.revisionTextBytes} bytes of revision text stored (${(history.revisionTextBytes / history.bytesChanged).toFixed(2)}x), ` +
      `the Revision table ${Math.round(history.revisionTableBytes / 1024)} KB on disk`,
  );
  await mkdir("reports", { recursive: true });
  await writeFile(
    args.out,
    JSON.stringify(
      { benchmark: "origin-merge", database: bench.label, date: new Date().toISOString(), editsPerPagePerFlush: EDITS_PER_FLUSH * 2, refreshEveryRounds: REFRESH_EVERY, results, history },
      null,
      2,
    ),
  );
  console.log(`\nwrote ${args.out}`);
} finally {
  await bench.close();
}
