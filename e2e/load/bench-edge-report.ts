import type { ConvergenceReport } from "../spike/convergence";
import { cpus } from "node:os";
import type { DurabilityLevel } from "../../protocol/messages";
import type { LoadResult } from "./load-generator";
import type { MarkerCheck } from "./markers";
import type { UsageReport } from "./process-usage";
import type { HistogramQuantiles } from "./edge-histogram";

// What `npm run bench:edge` reports and how it prints it beside the targets
// (bench-edge.ts runs the levels).

/** The settings the printed report states. */
export interface ReportedSettings {
  editors: number;
  pops: number;
  replicasPerPop: number;
  pages: number;
  zipfExponent: number;
  rate: number;
  maxInFlight: number;
  warmupSeconds: number;
  seconds: number;
  flushMs: number;
  saturationEditors: number;
  saturationInFlight: number;
  saturationSeconds: number;
  mix: string;
  placement: string;
}

/** DESIGN.md, "Targets". */
export const TARGETS = {
  p99Ms: { edge: 5, pop: 10 } as Partial<Record<DurabilityLevel, number>>,
  saturationAckedPerSec: { edge: 10_000, pop: 5_000 } as Partial<Record<DurabilityLevel, number>>,
  /** Issue 19: edge CPU per acknowledged edit (the floor of y-websocket decode + apply + encode is ~25 µs). */
  edgeCpuUsPerAck: { edge: 100, pop: 150 } as Partial<Record<DurabilityLevel, number>>,
  ratioAgainstOrigin: 10,
  batchingFactor: 1000,
  transactionsPerFlusherPerInterval: 1,
};

export interface OriginTransactions {
  count: number;
  /** Replicas that sent at least one batch. */
  flushers: number;
  /** The busiest flusher's batches per flush interval over the span it flushed. */
  perFlusherPerInterval: number;
  /** Acknowledged edits / origin transactions. */
  batchingFactor: number;
}

export interface RunReport {
  load: Omit<LoadResult, "markers">;
  verification: MarkerCheck & { quiescentAfterMs: number; originTextBytes: number };
  /** The same check once the replicas drained on SIGTERM (which flushes every page they hold, owned or not). */
  afterDrain?: MarkerCheck;
  originTransactions: OriginTransactions;
  usage: UsageReport;
  /** What an acknowledged edit cost over the measured window: edge CPU, and fan-out messages to co-editors. */
  cost: { edgeCores: number; edgeCpuMsPerAck: number; edgeCpuUsPerAck: number; ackedPerEdgeCore: number; fanoutMessagesPerAck: number };
  /** The edges' own read-to-ack histogram over the measured window (and the drain), summed over the replicas. */
  edgeReadToAck: HistogramQuantiles;
  /** Replicas that died during this run. */
  crashes: { replica: string; exit: number | string; at: string }[];
  /** Every replica of the run, read as a client reads it: every acknowledged marker once, and the origin's text. */
  replicaChecks: ConvergenceReport["replicas"];
  /** Why this run is not to be trusted (lost or duplicated edits, a replica that differs or died, an ack below the level, editors that never connected); empty when sound. */
  failures: string[];
}

/** Where a process was allowed to run: Cpus_allowed_list from /proc/<pid>/status, and the cores asked for when pinned. */
export interface Placement {
  name: string;
  pid: number;
  cpusAllowed: string | undefined;
  requested?: string;
}

export interface LevelReport {
  level: DurabilityLevel;
  pops: string[];
  replicas: string[];
  placement: Placement[];
  main: RunReport & { markers?: LoadResult["markers"] };
  saturation: (RunReport & { markers?: LoadResult["markers"] }) | undefined;
  edgeMetrics: Record<string, number>;
  exits: { replica: string; exit: number | string }[];
  problems: string[];
}

export function fmt(value: number, digits = 1): string {
  if (!Number.isFinite(value)) return "-";
  if (value >= 1000) return Math.round(value).toLocaleString("en-US");
  return value.toFixed(value < 10 ? digits + 1 : digits);
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
  if (Number.isNaN(ms)) return "-";
  return Number.isFinite(ms) ? `<= ${fmt(ms)}` : `> ${fmt(largestMs)}`;
}

/** CPU the machine spent on processes this bench did not start or share (other sessions' tests and servers), % of one core. */
function othersPercent(usage: UsageReport): number {
  const ours = usage.processes.reduce((sum, p) => sum + p.cpuPercent, 0);
  return Math.max(0, usage.machine.user + usage.machine.system - ours);
}

function mark(ok: boolean | undefined): string {
  return ok === undefined ? "" : ok ? "met" : "MISSED";
}

export function printReport(levels: LevelReport[], settings: ReportedSettings, log: (line: string) => void): Record<string, number | undefined> {
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
  log("\nEdge cost (edge CPU seconds over the measured window; robust to what else runs on the machine):");
  const costRow = (cells: string[]) => log(cells.map((cell, i) => (i === 0 || i === cells.length - 1 ? cell.padEnd(20) : cell.padStart(12))).join(" "));
  costRow(["run", "acked/s", "edge cores", "µs/ack", "acked/s/core", "ack p99 ms", "edge p99 ms", "target"]);
  for (const report of levels) {
    for (const [label, run] of [["", report.main], [" saturation", report.saturation]] as const) {
      if (!run) continue;
      const target = TARGETS.edgeCpuUsPerAck[report.level];
      costRow([
        `${report.level}${label}`,
        String(run.load.ackedPerSec),
        String(run.cost.edgeCores),
        fmt(run.cost.edgeCpuUsPerAck),
        fmt(run.cost.ackedPerEdgeCore),
        fmt(run.load.ackLatencyMs.p99),
        bound(run.edgeReadToAck.p99Ms, run.edgeReadToAck.largestBucketMs),
        target ? `<= ${target} µs/ack ${mark(run.cost.edgeCpuUsPerAck <= target)}` : "",
      ]);
    }
  }
  log("  (ack p99: as the editors measured it, send to ack; edge p99: the edges' weirwood_edge_read_to_ack_seconds, read off the socket to ack written, upper bucket bound)");
  for (const report of levels) {
    log(`  ${report.level} placement: ${report.placement.map((p) => `${p.name} cpus ${p.cpusAllowed ?? "?"}`).join(", ")}`);
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
        `          per acknowledged edit: ${fmt(run.cost.edgeCpuUsPerAck)} µs of edge CPU (${run.cost.edgeCores} cores used by the edges), ` +
          `${run.cost.fanoutMessagesPerAck} fan-out messages to co-editors; capacity ${fmt(run.cost.ackedPerEdgeCore)} acked/s per edge core`,
      );
      const edge = run.edgeReadToAck;
      log(`          the edges' read-to-ack histogram: p50 ${bound(edge.p50Ms, edge.largestBucketMs)} ms, p99 ${bound(edge.p99Ms, edge.largestBucketMs)} ms over ${edge.count} acks; the editors': p50 ${fmt(load.ackLatencyMs.p50)} ms, p99 ${fmt(load.ackLatencyMs.p99)} ms`);
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
