// Origin merge throughput: how many pages and batches per second the origin
// merges, for batches of 1, 50 and 500 pages of ~5 KB, on a real Postgres
// (a scratch database, dropped afterwards) or, with --pglite, on PGlite.
//
//   npm run bench:origin                  # Postgres at WEIRWOOD_TEST_PG_URL or 127.0.0.1:5432
//   npm run bench:origin -- --pglite      # the embedded database
//   npm run bench:origin -- --seconds 20  # longer runs per size
//
// Writes reports/bench-origin.json and prints a table. Not a test: these
// machines are shared and noisy, so the figures go to docs/benchmarks.md
// with the date, not into assertions.
import { randomUUID } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import * as Y from "yjs";
import { type FlushBatch, toBase64 } from "../../edge/protocol/flush";
import { type Database, openDatabase } from "../db";
import { createScratchDatabase } from "../../prisma/scratch-database";
import { mergeBatch } from "../merge";

const { values: args } = parseArgs({
  options: {
    pglite: { type: "boolean", default: false },
    seconds: { type: "string", default: "8" },
    sizes: { type: "string", default: "1,50,500" },
    out: { type: "string", default: "reports/bench-origin.json" },
  },
});
const secondsPerSize = Number(args.seconds);
const sizes = args.sizes.split(",").map(Number);
const baseUrl = process.env.WEIRWOOD_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

const PAGE_BYTES = 5 * 1024;
const EDITS_PER_FLUSH = 20;

/** A page as an edge holds it: ~5 KB of text typed in small edits. */
interface EdgePage {
  slug: string;
  doc: Y.Doc;
  acknowledged: Uint8Array;
}

function buildPage(index: number): EdgePage {
  const doc = new Y.Doc();
  const text = doc.getText("body");
  while (text.length < PAGE_BYTES) text.insert(text.length, `Edit ${text.length} of page ${index}. `);
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

async function openBenchDatabase(): Promise<{ db: Database; label: string; drop(): Promise<void> }> {
  if (args.pglite) {
    const db = await openDatabase({ kind: "pglite", dataDir: undefined });
    await db.migrate();
    return { db, label: "PGlite (in memory)", drop: async () => {} };
  }
  const scratch = await createScratchDatabase(baseUrl, "weirwood_bench");
  const db = await openDatabase({ kind: "postgres", url: scratch.url });
  await db.migrate();
  return { db, label: `Postgres ${new URL(scratch.url).host}`, drop: scratch.drop };
}

interface SizeResult {
  pagesPerBatch: number;
  batches: number;
  pages: number;
  seconds: number;
  batchesPerSec: number;
  pagesPerSec: number;
  updateBytesPerSec: number;
  batchMs: { p50: number; p99: number; max: number };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

async function runSize(db: Database, pagesPerBatch: number, offset: number): Promise<SizeResult> {
  const pages = Array.from({ length: pagesPerBatch }, (_, i) => buildPage(offset + i));
  // The first flush creates the pages with their whole 5 KB; measured flushes
  // then carry what was typed since, as a running edge's flushes do.
  const first = batchFor(pages);
  const created = await mergeBatch(db.prisma, first.batch);
  created.answer.pages.forEach((answer, i) => (pages[i]!.acknowledged = Buffer.from(answer.stateVector, "base64")));

  const durations: number[] = [];
  let bytes = 0;
  const started = performance.now();
  while (performance.now() - started < secondsPerSize * 1000 || durations.length < 3) {
    for (const page of pages) typeSome(page);
    const { batch, bytes: batchBytes } = batchFor(pages);
    const t0 = performance.now();
    const { answer } = await mergeBatch(db.prisma, batch);
    durations.push(performance.now() - t0);
    bytes += batchBytes;
    answer.pages.forEach((page, i) => (pages[i]!.acknowledged = Buffer.from(page.stateVector, "base64")));
  }
  const mergeSeconds = durations.reduce((a, b) => a + b, 0) / 1000;
  const sorted = [...durations].sort((a, b) => a - b);
  return {
    pagesPerBatch,
    batches: durations.length,
    pages: durations.length * pagesPerBatch,
    seconds: Number(mergeSeconds.toFixed(2)),
    batchesPerSec: Number((durations.length / mergeSeconds).toFixed(1)),
    pagesPerSec: Number(((durations.length * pagesPerBatch) / mergeSeconds).toFixed(0)),
    updateBytesPerSec: Math.round(bytes / mergeSeconds),
    batchMs: {
      p50: Number(percentile(sorted, 50).toFixed(1)),
      p99: Number(percentile(sorted, 99).toFixed(1)),
      max: Number((sorted.at(-1) ?? 0).toFixed(1)),
    },
  };
}

const { db, label, drop } = await openBenchDatabase();
try {
  const results: SizeResult[] = [];
  let offset = 0;
  for (const size of sizes) {
    process.stdout.write(`merging batches of ${size} page(s) of ~5 KB for ${secondsPerSize} s on ${label}... `);
    const result = await runSize(db, size, offset);
    offset += size;
    results.push(result);
    console.log(`${result.batchesPerSec} batches/s, ${result.pagesPerSec} pages/s`);
  }
  console.log("\npages/batch  batches  batches/s  pages/s  batch p50 ms  p99 ms  max ms");
  for (const r of results) {
    console.log(
      [r.pagesPerBatch, r.batches, r.batchesPerSec, r.pagesPerSec, r.batchMs.p50, r.batchMs.p99, r.batchMs.max]
        .map((value, i) => String(value).padStart(i === 0 ? 11 : 9))
        .join(""),
    );
  }
  await mkdir("reports", { recursive: true });
  await writeFile(
    args.out,
    JSON.stringify({ benchmark: "origin-merge", database: label, date: new Date().toISOString(), editsPerPagePerFlush: EDITS_PER_FLUSH * 2, results }, null, 2),
  );
  console.log(`\nwrote ${args.out}`);
} finally {
  await db.close();
  await drop();
}
