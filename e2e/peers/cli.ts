// `npm run bench:peers`: Weirwood side by side with Hocuspocus, the same
// clients and the same load, in one run.
//
//   npm run bench:peers                     # 50 clients @ 500 edits/s and 200 @ 1,000, 20 s each, plus the crash points
//   npm run bench:peers -- --quick          # 20 clients @ 100 edits/s for 4 s, no crash point
//   npm run bench:peers -- --points 50@500 --duration 10 --systems weirwood-1x1-edge,hocuspocus-1
//   npm run bench:peers -- --pin on         # servers and load generator on separate cores (taskset), verified
//   npm run bench:peers -- --pg-url postgres://postgres@127.0.0.1:5432/postgres   # a shared server instead of a private one
//
// By default the systems' databases live on a Postgres cluster the bench
// starts for itself (e2e/support/private-postgres.ts): WAL is counted per
// cluster, and on a shared server every other writer's WAL counts too (two
// runs on the shared server here measured Hocuspocus at 17 and 471 kB per
// 1,000 edits).
//
// Each system runs alone, as separate processes on 127.0.0.1 over a fresh
// Postgres database (and NATS or Redis where it needs them); see
// docs/benchmarks.md for what is measured and how. Exits non-zero when a
// marker never reached a system's database.
import { mkdir, writeFile } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { CRASH_SYSTEMS, EQUAL_PERSIST_SYSTEMS, SYSTEMS, runBench } from "./bench";
import type { LoadPoint } from "./crowd";
import { startPrivatePostgres } from "../support/private-postgres";
import { printReport } from "./report";
import { renderPeersHtml } from "./report-html";

const { values: args } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    points: { type: "string" },
    duration: { type: "string" },
    systems: { type: "string" },
    crash: { type: "string" },
    "crash-after": { type: "string", default: "12" },
    probes: { type: "string", default: "4" },
    workers: { type: "string", default: "2" },
    // auto: pin on 4 cores or more. On this project's 2-core machine one core
    // each starved the load generator (200 clients @ 1,000 edits/s: 5,860 of
    // 32,000 deliveries within the drain, against all of them unpinned).
    pin: { type: "string", default: "auto" },
    report: { type: "string" },
    "pg-url": { type: "string" },
    "nats-url": { type: "string", default: process.env.NATS_URL ?? "nats://127.0.0.1:4222" },
    "redis-url": { type: "string", default: process.env.REDIS_URL ?? "redis://127.0.0.1:6379" },
  },
});

function positive(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`bench:peers: --${name} must be a positive number, got ${JSON.stringify(value)}`);
  return n;
}

const durationMs = positive("duration", args.duration ?? (args.quick ? "4" : "20")) * 1000;
const loads: LoadPoint[] = (args.points ?? (args.quick ? "20@100" : "50@500,200@1000")).split(",").map((point) => {
  const match = /^(\d+)@(\d+)$/.exec(point.trim());
  if (!match) throw new Error(`bench:peers: --points takes CLIENTS@EDITS_PER_SECOND,... (e.g. 50@500), got ${JSON.stringify(point)}`);
  return { clients: Number(match[1]), ratePerSecond: Number(match[2]), durationMs };
});
const pick = (ids: string) =>
  ids
    .split(",")
    .filter(Boolean)
    .map((id) => {
      const spec = [...SYSTEMS, ...EQUAL_PERSIST_SYSTEMS].find((s) => s.id === id.trim());
      if (!spec) throw new Error(`bench:peers: unknown system ${JSON.stringify(id)}; known: ${[...SYSTEMS, ...EQUAL_PERSIST_SYSTEMS].map((s) => s.id).join(", ")}`);
      return spec;
    });
const systems = args.systems ? pick(args.systems) : args.quick ? SYSTEMS : [...SYSTEMS, ...EQUAL_PERSIST_SYSTEMS];
const crash = pick(args.crash ?? (args.quick ? "" : CRASH_SYSTEMS.join(",")));
const log = (line: string) => console.log(line);

// Autovacuum off: the bench VACUUMs each system's database itself at both
// ends of its window, so the work a system's writes leave for later is
// counted; what the daemon adds is whichever automatic ANALYZE its wake-up
// lands in a window (up to 145 kB of pg_statistic in one 20 s window, for
// either system, on 2026-12-04), and its visits to other databases.
const privatePostgres = args["pg-url"] ? undefined : await startPrivatePostgres({ settings: { autovacuum: "off" } });
const pgUrl = args["pg-url"] ?? privatePostgres!.url;
log(`Postgres: ${privatePostgres ? `a private cluster at ${pgUrl} (its WAL is this bench's alone)` : `${pgUrl} (shared: its WAL counts every writer)`}`);
const report = await runBench({
  services: { pgUrl, natsUrl: args["nats-url"], redisUrl: args["redis-url"], log },
  systems,
  loads,
  probes: positive("probes", args.probes),
  workers: positive("workers", args.workers),
  pin: args.pin === "on" || (args.pin === "auto" && cpus().length >= 4),
  crash,
  crashAfterMs: positive("crash-after", args["crash-after"]) * 1000,
  quick: args.quick,
  command: `npm run bench:peers${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(" ")}` : ""}`,
});
await privatePostgres?.stop();
printReport(report, log);

const reportPath = args.report ?? (args.quick ? path.join(tmpdir(), "weirwood-peers-quick.json") : "docs/peers/peers.json");
await mkdir(path.dirname(reportPath), { recursive: true });
await writeFile(reportPath, `${JSON.stringify(report, null, 2)}\n`);
const htmlPath = reportPath.replace(/\.json$/, "") + ".html";
await writeFile(htmlPath, renderPeersHtml(report));
log(`report: ${reportPath}, ${htmlPath}`);
process.exit(report.failures.length > 0 ? 1 : 0);
