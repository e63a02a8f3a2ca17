// The edge write path, measured: for each durability level (edge, pop,
// origin), N protocol-level editors type on Zipf-popular pages through 2
// PoPs x 2 edge replicas (real `edge/main.ts` processes over NATS), and the
// bench reports ack latency, acknowledged edits/s, origin transactions and
// the batching factor, and checks that every acknowledged edit is in the
// origin's text exactly once. A second, closed-loop run per level finds the
// acknowledged edits/s the level sustains at saturation.
//
//   npm run bench:edge                                  # defaults below, ~4 minutes
//   npm run bench:edge -- --levels edge --seconds 5     # one level, shorter
//   npm run bench:edge -- --editors 200 --rate 1000 --pages 50
//
// Needs Postgres (WEIRWOOD_TEST_PG_URL or 127.0.0.1:5432: a scratch database
// is created and dropped) and NATS with JetStream (WEIRWOOD_TEST_NATS_URL or
// 127.0.0.1:4222: the PoPs' streams are deleted afterwards). Writes
// reports/bench-edge.json and prints a table beside the targets of
// DESIGN.md. Not a test: the machines are shared and noisy, so the figures
// go to docs/benchmarks.md with the date, not into assertions.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { cpus, totalmem } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { DURABILITY_LEVELS, type DurabilityLevel } from "../../edge/protocol/messages";
import { type BenchSystem, type RunningPops, scrapeMetrics, startBenchSystem } from "./bench-system";
import { LoadGenerator, type LoadOptions, type LoadResult, withoutMarkers } from "./load-generator";
import { checkMarkers, type MarkerCheck } from "./markers";
import { UsageSampler, type UsageReport } from "./process-usage";

const { values: args } = parseArgs({
  options: {
    levels: { type: "string", default: "edge,pop,origin" },
    editors: { type: "string", default: "1000" },
    rate: { type: "string", default: "5000" },
    pages: { type: "string", default: "20" },
    zipf: { type: "string", default: "1" },
    seconds: { type: "string", default: "15" },
    warmup: { type: "string", default: "3" },
    "in-flight": { type: "string", default: "2" },
    "saturation-seconds": { type: "string", default: "8" },
    "saturation-editors": { type: "string" },
    "saturation-in-flight": { type: "string", default: "2" },
    workers: { type: "string", default: "2" },
    pops: { type: "string", default: "2" },
    replicas: { type: "string", default: "2" },
    "flush-ms": { type: "string", default: "2000" },
    users: { type: "string", default: "1" },
    follow: { type: "boolean", default: false },
    "cpu-prof": { type: "string" },
    out: { type: "string", default: "reports/bench-edge.json" },
  },
});

function positive(name: string, value: string | undefined, allowZero = false): number {
  const number = Number(value);
  if (!Number.isFinite(number) || number < 0 || (!allowZero && number === 0)) {
    throw new Error(`bench:edge: --${name} must be a ${allowZero ? "non-negative" : "positive"} number, got ${JSON.stringify(value)}`);
  }
  return number;
}

const settings = {
  levels: args.levels.split(",").map((level) => {
    if (!DURABILITY_LEVELS.includes(level as DurabilityLevel)) throw new Error(`bench:edge: --levels takes ${DURABILITY_LEVELS.join(",")}, got ${level}`);
    return level as DurabilityLevel;
  }),
  editors: positive("editors", args.editors),
  rate: positive("rate", args.rate),
  pages: positive("pages", args.pages),
  zipfExponent: positive("zipf", args.zipf, true),
  seconds: positive("seconds", args.seconds),
  warmupSeconds: positive("warmup", args.warmup, true),
  maxInFlight: positive("in-flight", args["in-flight"]),
  saturationSeconds: positive("saturation-seconds", args["saturation-seconds"], true),
  saturationEditors: positive("saturation-editors", args["saturation-editors"] ?? args.editors),
  saturationInFlight: positive("saturation-in-flight", args["saturation-in-flight"]),
  workers: positive("workers", args.workers),
  pops: positive("pops", args.pops),
  replicasPerPop: positive("replicas", args.replicas),
  flushMs: positive("flush-ms", args["flush-ms"]),
  users: positive("users", args.users),
  follow: args.follow,
  /** A folder where each edge process writes a V8 CPU profile when it exits (node --cpu-prof). */
  cpuProfileDir: args["cpu-prof"],
};
const pgUrl = process.env.WEIRWOOD_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const natsUrl = process.env.WEIRWOOD_TEST_NATS_URL ?? "nats://127.0.0.1:4222";
const run = randomBytes(3).toString("hex");

/** DESIGN.md, "Targets". */
const TARGETS = {
  p99Ms: { edge: 5, pop: 10 } as Partial<Record<DurabilityLevel, number>>,
  saturationAckedPerSec: { edge: 10_000, pop: 5_000 } as Partial<Record<DurabilityLevel, number>>,
  ratioAgainstOrigin: 10,
  batchingFactor: 1000,
  transactionsPerFlusherPerInterval: 1,
};

interface OriginTransactions {
  count: number;
  /** Replicas that sent at least one batch. */
  flushers: number;
  /** The busiest flusher's batches per flush interval over the span it flushed. */
  perFlusherPerInterval: number;
  /** Acknowledged edits / origin transactions. */
  batchingFactor: number;
}

interface RunReport {
  load: Omit<LoadResult, "markers">;
  verification: MarkerCheck & { quiescentAfterMs: number; originTextBytes: number };
  /** The same check once the replicas drained on SIGTERM (which flushes every page they hold, owned or not). */
  afterDrain?: MarkerCheck;
  originTransactions: OriginTransactions;
  usage: UsageReport;
  /** What an acknowledged edit cost over the measured window: edge CPU, and fan-out messages to co-editors. */
  cost: { edgeCores: number; edgeCpuMsPerAck: number; fanoutMessagesPerAck: number };
  /** Replicas that died during this run. */
  crashes: { replica: string; exit: number | string; at: string }[];
}

interface LevelReport {
  level: DurabilityLevel;
  pops: string[];
  replicas: string[];
  main: RunReport & { markers?: LoadResult["markers"] };
  saturation: (RunReport & { markers?: LoadResult["markers"] }) | undefined;
  edgeMetrics: Record<string, number>;
  exits: { replica: string; exit: number | string }[];
  problems: string[];
}

function log(line: string): void {
  console.log(line);
}

function pageSlugs(level: DurabilityLevel, kind: string): string[] {
  return Array.from({ length: settings.pages }, (_, i) => `Bench_${run}_${level}_${kind}_${i + 1}`);
}

function progressPrinter(label: string): LoadOptions["onProgress"] {
  return (p) => {
    const at = p.atS < 0 ? `warm-up ${p.atS}s` : `+${p.atS}s`;
    log(
      `  ${label} ${at.padEnd(12)} offered ${String(p.offered).padStart(6)}/s  acked ${String(p.acked).padStart(6)}/s  ` +
        `p50 ${fmt(p.p50Ms)} ms  p99 ${fmt(p.p99Ms)} ms  in flight ${p.inFlight}  fan-out ${p.received}/s` +
        (p.failed ? `  failed ${p.failed}` : ""),
    );
  };
}

function fmt(value: number, digits = 1): string {
  if (!Number.isFinite(value)) return "-";
  if (value >= 1000) return Math.round(value).toLocaleString("en-US");
  return value.toFixed(value < 10 ? digits + 1 : digits);
}

/** Polls the origin until every acknowledged marker is there and no batch arrived for 1.5 flush intervals (or the timeout). */
async function quiesce(
  system: BenchSystem,
  pops: readonly string[],
  markers: LoadResult["markers"],
  timeoutMs: number,
): Promise<{ check: MarkerCheck; afterMs: number; texts: Map<string, string> }> {
  const started = Date.now();
  const slugs = [...new Set([...markers.acked.keys(), ...markers.unacked.keys()])];
  let lastCount = -1;
  let stableSince = Date.now();
  for (;;) {
    const texts = await system.originTexts(slugs);
    const check = checkMarkers(texts, markers.acked, markers.unacked);
    const count = (await system.batches(pops)).length;
    if (count !== lastCount) {
      lastCount = count;
      stableSince = Date.now();
    }
    const settled = check.lost === 0 && Date.now() - stableSince >= settings.flushMs * 1.5;
    if (settled || Date.now() - started > timeoutMs) return { check, afterMs: Date.now() - started, texts };
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function countTransactions(system: BenchSystem, pops: readonly string[], after: number, acked: number): Promise<OriginTransactions> {
  const batches = (await system.batches(pops)).filter((batch) => batch.receivedAt.getTime() >= after);
  const byEdge = new Map<string, number[]>();
  for (const batch of batches) byEdge.set(batch.edge, [...(byEdge.get(batch.edge) ?? []), batch.receivedAt.getTime()]);
  let perFlusherPerInterval = 0;
  for (const times of byEdge.values()) {
    const intervals = (times[times.length - 1]! - times[0]!) / settings.flushMs + 1;
    perFlusherPerInterval = Math.max(perFlusherPerInterval, times.length / intervals);
  }
  return {
    count: batches.length,
    flushers: byEdge.size,
    perFlusherPerInterval: Math.round(perFlusherPerInterval * 100) / 100,
    batchingFactor: batches.length === 0 ? 0 : acked / batches.length >= 10 ? Math.round(acked / batches.length) : Math.round((acked / batches.length) * 100) / 100,
  };
}

async function measure(
  system: BenchSystem,
  pops: RunningPops,
  tokens: string[],
  options: { label: string; slugs: string[]; mode: "open" | "closed"; editors: number; seconds: number; warmupSeconds: number; maxInFlight: number },
): Promise<RunReport & { markers: LoadResult["markers"] }> {
  const since = Date.now();
  const sampler = new UsageSampler([
    ...pops.edges.map((edge) => ({ name: edge.replica, pid: edge.pid })),
    { name: "bench process (origin + load generator)", pid: process.pid },
    { name: "nats-server (shared)", comm: "nats-server" },
    { name: "postgres (all, shared)", comm: "postgres" },
  ]);
  const load = await LoadGenerator.connect({
    edges: pops.targets,
    tokens,
    pages: options.slugs,
    zipfExponent: settings.zipfExponent,
    editors: options.editors,
    mode: options.mode,
    rate: settings.rate,
    maxInFlight: options.maxInFlight,
    warmupSeconds: options.warmupSeconds,
    seconds: options.seconds,
    workers: settings.workers,
    follow: settings.follow,
    seed: 42,
    onProgress: progressPrinter(options.label),
  });
  if (load.connected < options.editors) log(`  ${options.label}: only ${load.connected} of ${options.editors} editors connected: ${JSON.stringify(load.connectFailures)}`);
  let result: LoadResult;
  try {
    result = await load.run();
  } finally {
    await load.close();
    sampler.stop();
  }
  const usage = sampler.report(result.window.measureFrom, result.window.measureTo);
  const quiet = await quiesce(system, pops.pops, result.markers, 10_000 + 3 * settings.flushMs);
  const originTransactions = await countTransactions(system, pops.pops, since, result.total.acked);
  const originTextBytes = [...quiet.texts.values()].reduce((sum, text) => sum + Buffer.byteLength(text), 0);
  log(
    `  ${options.label}: ${result.total.acked} acked, quiescent after ${quiet.afterMs} ms: lost ${quiet.check.lost}, duplicated ${quiet.check.duplicated}` +
      (quiet.check.examples.lost.length ? ` (e.g. ${quiet.check.examples.lost.slice(0, 3).join(", ")})` : "") +
      `; ${originTransactions.count} origin transactions`,
  );
  const edgeCores = usage.processes.filter((p) => pops.edges.some((edge) => edge.replica === p.name)).reduce((sum, p) => sum + p.cpuPercent, 0) / 100;
  const cost = {
    edgeCores: Math.round(edgeCores * 100) / 100,
    edgeCpuMsPerAck: result.ackedPerSec > 0 ? Math.round((edgeCores / result.ackedPerSec) * 1000 * 100) / 100 : Number.NaN,
    fanoutMessagesPerAck: result.total.acked > 0 ? Math.round(result.received.updates / result.total.acked) : Number.NaN,
  };
  const crashes = pops.crashes().filter((crash) => Date.parse(crash.at) >= since);
  for (const crash of crashes) log(`  ${options.label}: REPLICA ${crash.replica} EXITED (${crash.exit}) at ${crash.at}, during the run`);
  if (quiet.check.lost > 0) {
    const replicaOf = new Map(pops.edges.map((edge) => [edge.url, edge.replica]));
    for (const [slug, lost] of Object.entries(quiet.check.lostByPage)) {
      const page = result.perPage.find((p) => p.slug === slug);
      const holders = (page?.edges ?? []).map((url) => replicaOf.get(url) ?? url);
      log(`    ${slug}: ${lost} of ${page?.acked ?? "?"} acked edits missing at the origin; its ${page?.editors ?? "?"} editors are on ${holders.join(", ")}`);
    }
  }
  return {
    markers: result.markers,
    load: withoutMarkers(result),
    verification: { ...quiet.check, quiescentAfterMs: quiet.afterMs, originTextBytes },
    originTransactions,
    usage,
    cost,
    crashes,
  };
}

async function runLevel(system: BenchSystem, tokens: string[], level: DurabilityLevel): Promise<LevelReport> {
  const popNames = Array.from({ length: settings.pops }, (_, i) => `bench-${run}-${level}-${i + 1}`);
  log(`\n== ${level}: ${settings.pops} PoPs x ${settings.replicasPerPop} replicas (${popNames.join(", ")}) ==`);
  const pops = await system.startPops({
    pops: popNames,
    replicasPerPop: settings.replicasPerPop,
    durability: level,
    flushMs: settings.flushMs,
    // The per-user limit guards against one account flooding; the bench's
    // editors share a few accounts, so it is off (docs/benchmarks.md).
    env: {
      EDGE_RATE_LIMIT: "off",
      ...(profileHook ? { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} --import ${profileHook}`.trim() } : {}),
    },
  });
  let exits: LevelReport["exits"] = [];
  try {
    const main = await measure(system, pops, tokens, {
      label: level,
      slugs: pageSlugs(level, "open"),
      mode: "open",
      editors: settings.editors,
      seconds: settings.seconds,
      warmupSeconds: settings.warmupSeconds,
      maxInFlight: settings.maxInFlight,
    });
    let saturation: LevelReport["saturation"];
    if (settings.saturationSeconds > 0) {
      saturation = await measure(system, pops, tokens, {
        label: `${level} saturation`,
        slugs: pageSlugs(level, "closed"),
        mode: "closed",
        editors: settings.saturationEditors,
        seconds: settings.saturationSeconds,
        warmupSeconds: Math.min(2, settings.warmupSeconds),
        maxInFlight: settings.saturationInFlight,
      });
    }
    const edgeMetrics = await sumEdgeMetrics(pops);
    const problems = pops.problems();
    exits = await pops.stop();
    for (const [label, report] of [[level, main], [`${level} saturation`, saturation]] as const) {
      if (!report?.markers) continue;
      if (report.verification.lost > 0 || report.verification.duplicated > 0) {
        const slugs = [...new Set([...report.markers.acked.keys(), ...report.markers.unacked.keys()])];
        report.afterDrain = checkMarkers(await system.originTexts(slugs), report.markers.acked, report.markers.unacked);
        log(`  ${label}: after the replicas drained on SIGTERM: lost ${report.afterDrain.lost}, duplicated ${report.afterDrain.duplicated}`);
      }
      delete report.markers;
    }
    return { level, pops: popNames, replicas: pops.edges.map((edge) => edge.replica), main, saturation, edgeMetrics, exits, problems: problems.slice(0, 50) };
  } catch (error) {
    if (exits.length === 0) await pops.stop(5000).catch(() => {});
    for (const line of pops.problems().slice(0, 20)) log(`  ${line}`);
    throw error;
  }
}

/** The edges' own counters, summed over the replicas: what they accepted, refused, flushed, and their event-loop lag. */
async function sumEdgeMetrics(pops: RunningPops): Promise<Record<string, number>> {
  const wanted = [
    /^weirwood_edge_edits_total/,
    /^weirwood_edge_flush_batches_total$/,
    /^weirwood_edge_origin_errors_total$/,
    /^weirwood_edge_page_loads_total/,
    /^weirwood_edge_nodejs_eventloop_lag_p99_seconds$/,
    /^weirwood_edge_ack_latency_seconds_(count|sum|bucket)/,
  ];
  const summed: Record<string, number> = {};
  for (const edge of pops.edges) {
    const metrics = await scrapeMetrics(edge.httpUrl).catch(() => new Map<string, number>());
    for (const [name, value] of metrics) {
      if (!wanted.some((pattern) => pattern.test(name))) continue;
      // Lag is a per-process figure: keep the worst replica's.
      summed[name] = name.includes("eventloop_lag") ? Math.max(summed[name] ?? 0, value) : (summed[name] ?? 0) + value;
    }
  }
  return summed;
}

/**
 * Quantiles of the edges' own ack-latency histogram (from reading a client's
 * update to sending its ack), summed over the replicas: upper bucket bounds.
 */
function serverAckQuantiles(metrics: Record<string, number>): { p50Ms: number; p99Ms: number; largestBucketMs: number; count: number } {
  const buckets: { le: number; count: number }[] = [];
  for (const [name, value] of Object.entries(metrics)) {
    const le = /^weirwood_edge_ack_latency_seconds_bucket\{.*le="([^"]+)"/.exec(name)?.[1];
    if (le === undefined) continue;
    const bound = le === "+Inf" ? Number.POSITIVE_INFINITY : Number(le);
    const existing = buckets.find((bucket) => bucket.le === bound);
    if (existing) existing.count += value;
    else buckets.push({ le: bound, count: value });
  }
  buckets.sort((a, b) => a.le - b.le);
  const count = buckets.at(-1)?.count ?? 0;
  const quantile = (q: number) => (buckets.find((bucket) => bucket.count >= q * count)?.le ?? Number.NaN) * 1000;
  const largest = (buckets.filter((bucket) => Number.isFinite(bucket.le)).at(-1)?.le ?? Number.NaN) * 1000;
  return { p50Ms: quantile(0.5), p99Ms: quantile(0.99), largestBucketMs: largest, count };
}

/** An upper bucket bound, or "> the largest bound" for the +Inf bucket. */
function bound(ms: number, largestMs: number): string {
  return Number.isFinite(ms) ? `<= ${fmt(ms)}` : `> ${fmt(largestMs)}`;
}

/** CPU the machine spent on processes this bench did not start or share (other sessions' tests and servers), % of one core. */
function othersPercent(usage: UsageReport): number {
  const ours = usage.processes.reduce((sum, p) => sum + p.cpuPercent, 0);
  return Math.max(0, usage.machine.user + usage.machine.system - ours);
}

/** The commit the edges and the origin ran, and whether their files differed from it. */
function codeVersion(): { commit: string; uncommitted: string[] } {
  try {
    const commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim();
    const status = execFileSync("git", ["status", "--porcelain", "--", "edge", "origin", "common", "prisma"], { encoding: "utf8" });
    return { commit, uncommitted: status.split("\n").filter(Boolean) };
  } catch {
    return { commit: "unknown", uncommitted: [] };
  }
}

function mark(ok: boolean | undefined): string {
  return ok === undefined ? "" : ok ? "met" : "MISSED";
}

function printReport(levels: LevelReport[]): Record<string, number | undefined> {
  const by = (level: DurabilityLevel) => levels.find((report) => report.level === level);
  log(`\nEdge write path: ${settings.editors} editors over ${settings.pops} PoPs x ${settings.replicasPerPop} replicas, ${settings.pages} pages (Zipf s=${settings.zipfExponent}),`);
  log(`${settings.rate} offered edits/s (open loop, <= ${settings.maxInFlight} in flight per editor), ${settings.warmupSeconds} s warm-up + ${settings.seconds} s measured, flush every ${settings.flushMs} ms`);
  log("");
  const header = ["level", "offered/s", "acked/s", "p50 ms", "p99 ms", "max ms", "origin tx", "batching", "lost", "dup", "target (DESIGN.md)"];
  const widths = [8, 10, 9, 8, 8, 9, 10, 9, 6, 5, 0];
  const row = (cells: string[]) => log(cells.map((cell, i) => (i === 0 || i === cells.length - 1 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join(" "));
  row(header);
  for (const report of levels) {
    const { load, originTransactions: tx, verification } = report.main;
    const target = TARGETS.p99Ms[report.level];
    const targetText = target
      ? `p99 <= ${target} ms ${mark(load.ackLatencyMs.p99 <= target)}; batching >= ${TARGETS.batchingFactor} ${mark(tx.batchingFactor >= TARGETS.batchingFactor)}`
      : "the write-through baseline";
    row([
      report.level,
      String(load.offeredPerSec),
      String(load.ackedPerSec),
      fmt(load.ackLatencyMs.p50),
      fmt(load.ackLatencyMs.p99),
      fmt(load.ackLatencyMs.max),
      String(tx.count),
      String(tx.batchingFactor),
      String(verification.lost),
      String(verification.duplicated),
      targetText,
    ]);
  }
  const saturated = levels.filter((report) => report.saturation);
  if (saturated.length > 0) {
    log(`\nSaturation: closed loop, ${settings.saturationEditors} editors x ${settings.saturationInFlight} in flight, ${settings.saturationSeconds} s measured`);
    row(["level", "sent/s", "acked/s", "p50 ms", "p99 ms", "max ms", "origin tx", "batching", "lost", "dup", "target (DESIGN.md)"]);
    for (const report of saturated) {
      const { load, originTransactions: tx, verification } = report.saturation!;
      const target = TARGETS.saturationAckedPerSec[report.level];
      row([
        report.level,
        String(Math.round(load.sent / load.seconds)),
        String(load.ackedPerSec),
        fmt(load.ackLatencyMs.p50),
        fmt(load.ackLatencyMs.p99),
        fmt(load.ackLatencyMs.max),
        String(tx.count),
        String(tx.batchingFactor),
        String(verification.lost),
        String(verification.duplicated),
        target ? `>= ${target.toLocaleString("en-US")} acked/s ${mark(load.ackedPerSec >= target)}` : "the write-through baseline",
      ]);
    }
  }

  const ratio = (a: number | undefined, b: number | undefined) => (a && b && Number.isFinite(a) && Number.isFinite(b) ? Math.round((a / b) * 10) / 10 : undefined);
  const ratios = {
    p99OriginOverEdge: ratio(by("origin")?.main.load.ackLatencyMs.p99, by("edge")?.main.load.ackLatencyMs.p99),
    p99OriginOverPop: ratio(by("origin")?.main.load.ackLatencyMs.p99, by("pop")?.main.load.ackLatencyMs.p99),
    ackedPerSecEdgeOverOrigin: ratio(by("edge")?.main.load.ackedPerSec, by("origin")?.main.load.ackedPerSec),
    ackedPerSecPopOverOrigin: ratio(by("pop")?.main.load.ackedPerSec, by("origin")?.main.load.ackedPerSec),
    saturationEdgeOverOrigin: ratio(by("edge")?.saturation?.load.ackedPerSec, by("origin")?.saturation?.load.ackedPerSec),
    saturationPopOverOrigin: ratio(by("pop")?.saturation?.load.ackedPerSec, by("origin")?.saturation?.load.ackedPerSec),
  };
  if (by("origin")) {
    const show = (value: number | undefined) => (value === undefined ? "-" : `${value}x ${mark(value >= TARGETS.ratioAgainstOrigin)}`);
    log(`\nAgainst write-through (target >= ${TARGETS.ratioAgainstOrigin}x lower p99 and >= ${TARGETS.ratioAgainstOrigin}x more acked/s at saturation):`);
    log(`  p99 origin/edge ${show(ratios.p99OriginOverEdge)}   p99 origin/pop ${show(ratios.p99OriginOverPop)}`);
    log(`  acked/s at the offered load: edge/origin ${ratios.ackedPerSecEdgeOverOrigin ?? "-"}x   pop/origin ${ratios.ackedPerSecPopOverOrigin ?? "-"}x`);
    log(`  acked/s at saturation: edge/origin ${show(ratios.saturationEdgeOverOrigin)}   pop/origin ${show(ratios.saturationPopOverOrigin)}`);
  }

  log(`\nOrigin transactions (target <= ${TARGETS.transactionsPerFlusherPerInterval} per flushing replica per flush interval):`);
  for (const report of levels) {
    const tx = report.main.originTransactions;
    log(`  ${report.level.padEnd(7)} ${tx.count} batches from ${tx.flushers} flushers, busiest ${tx.perFlusherPerInterval} per interval`);
  }

  log("\nProcesses over the measured window (CPU % of one core; RSS MiB now / max):");
  for (const report of levels) {
    for (const [label, run] of [["", report.main], [" saturation", report.saturation]] as const) {
      if (!run) continue;
      const { usage, load } = run;
      const m = usage.machine;
      log(
        `  ${report.level}${label}: machine busy ${usage.machineBusyPercent}% of ${cpus().length} cores ` +
          `(user ${m.user}%, system ${m.system}%, softirq ${m.softirq}%, steal ${m.steal}%, idle ${m.idle}% of one core)`,
      );
      for (const p of usage.processes) log(`          ${p.name} ${p.cpuPercent}% ${p.rssMiB}/${p.maxRssMiB}${p.alive ? "" : " (exited)"}`);
      log(`          everything else on the machine (other users' processes): ${othersPercent(usage)}%`);
      for (const worker of load.workerLoad) {
        log(`          load worker ${worker.worker}: ${worker.editors} editors, ${worker.cpuPercent}% CPU, event loop ${Math.round(worker.eventLoopUtilization * 100)}% busy`);
      }
      log(`          fan-out received by the editors: ${load.received.updatesPerSec} updates/s; generator send lag p99 ${fmt(load.sendLagMs.p99)} ms`);
      log(
        `          per acknowledged edit: ${fmt(run.cost.edgeCpuMsPerAck, 2)} ms of edge CPU (${run.cost.edgeCores} cores used by the edges), ` +
          `${run.cost.fanoutMessagesPerAck} fan-out messages to co-editors`,
      );
      for (const crash of run.crashes) log(`          REPLICA ${crash.replica} EXITED (${crash.exit}) at ${crash.at}`);
    }
    const server = serverAckQuantiles(report.edgeMetrics);
    const lag = report.edgeMetrics["weirwood_edge_nodejs_eventloop_lag_p99_seconds"];
    log(
      `          the edges' own ack histogram (both runs): p50 ${bound(server.p50Ms, server.largestBucketMs)} ms, p99 ${bound(server.p99Ms, server.largestBucketMs)} ms over ${server.count} acks;` +
        ` worst replica event-loop lag p99 ${lag === undefined ? "-" : fmt(lag * 1000)} ms`,
    );
  }
  for (const report of levels) {
    const closes = Object.entries({ ...report.main.load.closes, ...report.saturation?.load.closes });
    if (closes.length > 0) log(`\n${report.level}: editor connections closed by the edge: ${closes.map(([reason, n]) => `${n}x "${reason}"`).join("; ")}`);
    if (report.problems.length > 0) {
      log(`${report.level}: the replicas logged ${report.problems.length} warnings/errors, e.g.:`);
      for (const line of report.problems.slice(0, 5)) log(`  ${line.slice(0, 300)}`);
    }
    const badExits = report.exits.filter((exit) => exit.exit !== 0);
    if (badExits.length > 0) log(`${report.level}: replicas that did not exit 0 on SIGTERM: ${JSON.stringify(badExits)}`);
  }
  return ratios;
}

/**
 * Node 20 refuses --cpu-prof in NODE_OPTIONS, and spawnEdge owns the edge's
 * command line, so the edges load this hook instead: it starts the V8
 * profiler through the inspector and writes the profile when the process
 * exits (inspector calls on a same-thread session complete synchronously).
 */
async function writeProfileHook(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const hook = path.resolve(dir, "cpu-profile-hook.mjs");
  await writeFile(
    hook,
    `import { Session } from "node:inspector";
import { writeFileSync } from "node:fs";
const session = new Session();
session.connect();
session.post("Profiler.enable");
session.post("Profiler.setSamplingInterval", { interval: 1000 });
session.post("Profiler.start");
process.on("exit", () => {
  session.post("Profiler.stop", (error, result) => {
    if (!error) writeFileSync(${JSON.stringify(dir)} + "/edge-" + process.pid + ".cpuprofile", JSON.stringify(result.profile));
  });
});
`,
  );
  return hook;
}

const profileHook = settings.cpuProfileDir ? await writeProfileHook(path.resolve(settings.cpuProfileDir)) : undefined;
const started = Date.now();
log(`bench:edge run ${run} on ${codeVersion().commit}: Postgres ${new URL(pgUrl).host}, NATS ${natsUrl}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB`);
const system = await startBenchSystem({ pgUrl, natsUrl });
let failed = false;
try {
  const tokens = await system.register(settings.users);
  const levels: LevelReport[] = [];
  for (const level of settings.levels) levels.push(await runLevel(system, tokens, level));
  const ratios = printReport(levels);
  const lossFree = levels.every((report) => report.main.verification.lost + report.main.verification.duplicated + (report.saturation ? report.saturation.verification.lost + report.saturation.verification.duplicated : 0) === 0);
  failed = !lossFree;
  await mkdir("reports", { recursive: true });
  await writeFile(
    args.out,
    JSON.stringify(
      {
        benchmark: "edge-write-path",
        date: new Date().toISOString(),
        machine: { cores: cpus().length, model: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30) },
        command: `npm run bench:edge -- ${process.argv.slice(2).join(" ")}`.trim(),
        code: codeVersion(),
        database: system.databaseLabel,
        nats: natsUrl,
        settings,
        targets: TARGETS,
        levels,
        ratios,
        lossFree,
        durationS: Math.round((Date.now() - started) / 1000),
      },
      null,
      2,
    ),
  );
  log(`\nwrote ${args.out} (${Math.round((Date.now() - started) / 1000)} s)`);
} finally {
  await system.close();
}
if (failed) {
  console.error("bench:edge: acknowledged edits were lost or duplicated (see the table above)");
  process.exitCode = 1;
}
