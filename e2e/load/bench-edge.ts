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
//   npm run bench:edge -- --mix random --placement shared   # the workload and placement before 2026-12-04
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
import { DURABILITY_LEVELS, type DurabilityLevel } from "../../protocol/messages";
import { awaitConvergence } from "../spike/convergence";
import { acksBelow } from "./ack-durability";
import { type BenchSystem, type RunningPops, scrapeMetrics, startBenchSystem } from "./bench-system";
import { countLateAsAcked } from "./late-acks";
import { LoadGenerator, type LoadOptions, type LoadResult, withoutMarkers } from "./load-generator";
import { checkMarkers, type MarkerCheck } from "./markers";
import { fmt, type LevelReport, type OriginTransactions, type Placement, printReport, type RunReport, TARGETS } from "./bench-edge-report";
import { UsageSampler } from "./process-usage";
import { type Buckets, bucketsSince, quantilesOf, scrapeHistogram } from "./edge-histogram";
import { EDIT_MIXES, type EditMix } from "./load-plan";
import { coreSplit, cpusAllowed, pin, type Pinning } from "../peers/pinning";

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
    mix: { type: "string", default: "crowd" },
    placement: { type: "string", default: "split" },
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

function oneOf<T extends string>(name: string, value: string, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) throw new Error(`bench:edge: --${name} takes ${allowed.join("|")}, got ${JSON.stringify(value)}`);
  return value as T;
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
  mix: oneOf("mix", args.mix, EDIT_MIXES),
  /**
   * "split": the edges on the first half of the cores, the bench process
   * (origin + load generator) on the rest (taskset, read back from /proc);
   * "shared": wherever the kernel puts them. Shared NATS and Postgres are
   * never pinned: other engineers' runs use them too.
   */
  placement: oneOf("placement", args.placement, ["split", "shared"] as const),
  /** A folder where each edge process writes a V8 CPU profile when it exits (node --cpu-prof). */
  cpuProfileDir: args["cpu-prof"],
};
const pgUrl = process.env.WEIRWOOD_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const natsUrl = process.env.WEIRWOOD_TEST_NATS_URL ?? "nats://127.0.0.1:4222";
const run = randomBytes(3).toString("hex");

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

/** The edges' own read-to-ack histogram (edge/metrics.ts). */
const READ_TO_ACK = "weirwood_edge_read_to_ack_seconds";

async function measure(
  system: BenchSystem,
  pops: RunningPops,
  tokens: string[],
  options: { label: string; level: DurabilityLevel; slugs: string[]; mode: "open" | "closed"; editors: number; seconds: number; warmupSeconds: number; maxInFlight: number },
): Promise<RunReport & { markers: LoadResult["markers"] }> {
  const since = Date.now();
  const sampler = new UsageSampler([
    ...pops.edges.map((edge) => ({ name: edge.replica, pid: edge.pid })),
    { name: "bench process (origin + load generator)", pid: process.pid },
    { name: "nats-server (shared)", comm: "nats-server" },
    { name: "postgres (all, shared)", comm: "postgres" },
  ]);
  const edgeUrls = pops.edges.map((edge) => edge.httpUrl);
  const printProgress = progressPrinter(options.label);
  let readToAckBefore: Promise<Buckets> | undefined;
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
    mix: settings.mix satisfies EditMix,
    seed: 42,
    onProgress: (progress) => {
      // The edges' histogram from the end of the warm-up on, beside the editors' figures of the same window.
      if (progress.atS >= 0) readToAckBefore ??= scrapeHistogram(edgeUrls, READ_TO_ACK);
      printProgress?.(progress);
    },
  });
  if (load.connected < options.editors) log(`  ${options.label}: only ${load.connected} of ${options.editors} editors connected: ${JSON.stringify(load.connectFailures)}`);
  let result: LoadResult;
  let lateAcked = new Map<string, string[]>();
  try {
    result = await load.run();
  } finally {
    lateAcked = await load.close();
    sampler.stop();
  }
  const edgeReadToAck = quantilesOf(bucketsSince(await (readToAckBefore ?? new Map()), await scrapeHistogram(edgeUrls, READ_TO_ACK)));
  // Acked after the drain: not in the figures, but checked like every ack.
  const late = countLateAsAcked(result.markers, lateAcked);
  if (late > 0) log(`  ${options.label}: ${late} acks arrived after the drain; checked with the others`);
  const usage = sampler.report(result.window.measureFrom, result.window.measureTo);
  const quiet = await quiesce(system, pops.pops, result.markers, 10_000 + 3 * settings.flushMs);
  const originTransactions = await countTransactions(system, pops.pops, since, result.total.acked);
  const originTextBytes = [...quiet.texts.values()].reduce((sum, text) => sum + Buffer.byteLength(text), 0);
  log(
    `  ${options.label}: ${result.total.acked} acked, quiescent after ${quiet.afterMs} ms: lost ${quiet.check.lost}, duplicated ${quiet.check.duplicated}` +
      (quiet.check.examples.lost.length ? ` (e.g. ${quiet.check.examples.lost.slice(0, 3).join(", ")})` : "") +
      `; ${originTransactions.count} origin transactions`,
  );
  // From the edges' CPU seconds over the measured window: what an edit
  // costs them, and what one core of edge sustains, whatever else shares
  // the machine (robust to the neighbours that make latency noisy).
  const windowSeconds = (usage.to - usage.from) / 1000;
  const edgeCpuSeconds = usage.processes.filter((p) => pops.edges.some((edge) => edge.replica === p.name)).reduce((sum, p) => sum + p.cpuSeconds, 0);
  const edgeCores = windowSeconds > 0 ? edgeCpuSeconds / windowSeconds : Number.NaN;
  const cost = {
    edgeCores: Math.round(edgeCores * 100) / 100,
    edgeCpuMsPerAck: result.ackedPerSec > 0 ? Math.round((edgeCores / result.ackedPerSec) * 1000 * 100) / 100 : Number.NaN,
    edgeCpuUsPerAck: result.ackedPerSec > 0 ? Math.round((edgeCores / result.ackedPerSec) * 1e6) : Number.NaN,
    ackedPerEdgeCore: edgeCores > 0 ? Math.round(result.ackedPerSec / edgeCores) : Number.NaN,
    fanoutMessagesPerAck: result.total.acked > 0 ? Math.round(result.received.updates / result.total.acked) : Number.NaN,
  };
  const crashes = pops.crashes().filter((crash) => Date.parse(crash.at) >= since);
  for (const crash of crashes) log(`  ${options.label}: REPLICA ${crash.replica} EXITED (${crash.exit}) at ${crash.at}, during the run`);
  // Every replica that served, as a client reads it now; the origin already holds every acknowledged marker (or the check says which it lacks).
  const replicaChecks = quiet.check.lost === 0 ? await checkReplicas(pops, tokens[0]!, result.markers, quiet.texts) : [];
  for (const replica of replicaChecks) {
    if (replica.error || replica.lost || replica.duplicated || replica.differingPages.length) {
      log(`  ${options.label}: REPLICA ${replica.replica}: lost ${replica.lost}, duplicated ${replica.duplicated}, differs on ${replica.differingPages.join(", ") || "-"} ${replica.error ?? ""}`);
    }
  }
  const failures = verdictOf(options, result, quiet.check, replicaChecks, crashes);
  for (const failure of failures) log(`  ${options.label}: FAILED: ${failure}`);
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
    edgeReadToAck,
    crashes,
    replicaChecks,
    failures,
  };
}

async function checkReplicas(
  pops: RunningPops,
  token: string,
  markers: LoadResult["markers"],
  originTexts: Map<string, string>,
): Promise<RunReport["replicaChecks"]> {
  const slugs = [...new Set([...markers.acked.keys(), ...markers.unacked.keys()])];
  const report = await awaitConvergence({
    slugs,
    replicas: pops.edges.map((edge) => ({ replica: edge.replica, url: edge.url })),
    token,
    originTexts: async () => originTexts,
    acked: markers.acked,
    unacked: markers.unacked,
    since: Date.now(),
    // Anti-entropy may still be carrying the last updates between replicas.
    timeoutMs: 10_000,
  });
  return report.replicas;
}

/** What makes a run's figures untrustworthy; the same faults the spike fails on (e2e/spike/report.ts). */
function verdictOf(
  options: { level: DurabilityLevel; editors: number },
  result: LoadResult,
  origin: MarkerCheck,
  replicas: RunReport["replicaChecks"],
  crashes: RunReport["crashes"],
): string[] {
  const failures: string[] = [];
  if (origin.lost > 0) failures.push(`${origin.lost} acknowledged edits missing at the origin`);
  if (origin.duplicated > 0) failures.push(`${origin.duplicated} acknowledged edits duplicated at the origin`);
  if (origin.unackedDuplicated > 0) failures.push(`${origin.unackedDuplicated} unacknowledged edits duplicated at the origin`);
  for (const replica of replicas) {
    if (replica.error) failures.push(`replica ${replica.replica} could not be read: ${replica.error}`);
    else if (replica.lost || replica.duplicated || replica.differingPages.length) failures.push(`replica ${replica.replica} differs from the origin (lost ${replica.lost}, duplicated ${replica.duplicated}, on ${replica.differingPages.length} pages)`);
  }
  const weak = acksBelow(result.acksByDurability, options.level);
  if (weak > 0) failures.push(`${weak} acks claimed less than ${options.level} durability (${JSON.stringify(result.acksByDurability)})`);
  for (const crash of crashes) failures.push(`replica ${crash.replica} exited (${crash.exit}) during the run`);
  if (result.connected < options.editors) failures.push(`only ${result.connected} of ${options.editors} editors connected (${JSON.stringify(result.connectFailures)})`);
  return failures;
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
  const placement = placeEdges(pops);
  try {
    const main = await measure(system, pops, tokens, {
      label: level,
      level,
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
        level,
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
    return { level, pops: popNames, replicas: pops.edges.map((edge) => edge.replica), placement, main, saturation, edgeMetrics, exits, problems: problems.slice(0, 50) };
  } catch (error) {
    if (exits.length === 0) await pops.stop(5000).catch(() => {});
    for (const line of pops.problems().slice(0, 20)) log(`  ${line}`);
    throw error;
  }
}

/**
 * The cores the kernel lets each process run on, after pinning them when
 * the placement is "split": read back from /proc/<pid>/status
 * (Cpus_allowed_list), never assumed. The bench process was pinned at start.
 */
function placeEdges(pops: RunningPops): Placement[] {
  const placed: Placement[] = [{ name: "bench process (origin + load generator)", pid: process.pid, cpusAllowed: cpusAllowed(process.pid), requested: benchPinning?.requested }];
  for (const edge of pops.edges) {
    if (split) {
      const pinning = pin(edge.replica, edge.pid, split.servers);
      placed.push({ name: edge.replica, pid: edge.pid, cpusAllowed: pinning.applied, requested: pinning.requested });
    } else {
      placed.push({ name: edge.replica, pid: edge.pid, cpusAllowed: cpusAllowed(edge.pid) });
    }
  }
  for (const p of placed) log(`  ${p.name} (pid ${p.pid}): Cpus_allowed_list ${p.cpusAllowed ?? "(gone)"}${p.requested && p.requested !== p.cpusAllowed ? ` (asked for ${p.requested}: NOT applied)` : ""}`);
  return placed;
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

const split = settings.placement === "split" ? coreSplit(cpus().length) : undefined;
if (settings.placement === "split" && !split) log("bench:edge: --placement split needs 2 cores or more; running shared");
// Pinned once: its worker threads (the load generator) and the origin's I/O inherit it.
const benchPinning: Pinning | undefined = split ? pin("bench process (origin + load generator)", process.pid, split.load) : undefined;
const profileHook = settings.cpuProfileDir ? await writeProfileHook(path.resolve(settings.cpuProfileDir)) : undefined;
const started = Date.now();
log(`bench:edge run ${run} on ${codeVersion().commit}: Postgres ${new URL(pgUrl).host}, NATS ${natsUrl}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB`);
const system = await startBenchSystem({ pgUrl, natsUrl });
let failed = false;
try {
  const tokens = await system.register(settings.users);
  const levels: LevelReport[] = [];
  for (const level of settings.levels) levels.push(await runLevel(system, tokens, level));
  const ratios = printReport(levels, settings, log);
  const lossFree = levels.every((report) => report.main.verification.lost + report.main.verification.duplicated + (report.saturation ? report.saturation.verification.lost + report.saturation.verification.duplicated : 0) === 0);
  const failures = levels.flatMap((report) => [
    ...report.main.failures.map((failure) => `${report.level}: ${failure}`),
    ...(report.saturation?.failures ?? []).map((failure) => `${report.level} saturation: ${failure}`),
  ]);
  failed = failures.length > 0;
  if (failed) log(`\nFAILED:\n  ${failures.join("\n  ")}`);
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
        ok: failures.length === 0,
        failures,
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
  console.error("bench:edge: the run's checks failed (lost or duplicated edits, a replica that differs or died, acks below the level, or editors that never connected: see FAILED above)");
  process.exitCode = 1;
}
