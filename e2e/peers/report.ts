import { execSync } from "node:child_process";
import { cpus, loadavg } from "node:os";
import type { LoadPoint } from "./crowd";
import type { CrashResult, PointResult } from "./run-point";

/** A figure of a load point, where lower is better for every one of them. */
export interface Figure {
  key: string;
  title: string;
  unit: string;
  of(point: PointResult): number;
}

export const FIGURES: Figure[] = [
  { key: "deliveryP50", title: "delivery p50", unit: "ms", of: (p) => p.delivery.latencyMs.p50 },
  { key: "deliveryP99", title: "delivery p99", unit: "ms", of: (p) => p.delivery.latencyMs.p99 },
  { key: "deliveryMax", title: "delivery max", unit: "ms", of: (p) => p.delivery.latencyMs.max },
  { key: "undelivered", title: "undelivered to probes (share)", unit: "share", of: (p) => 1 - p.delivery.ratio },
  { key: "serverCpu", title: "server CPU per 1,000 edits (all processes)", unit: "s", of: (p) => p.serverCpuSecondsPer1000Edits },
  { key: "serverRss", title: "server RSS, sum of the system's own processes (max)", unit: "MiB", of: (p) => ownRss(p) },
  { key: "wal", title: "Postgres WAL per 1,000 edits (the closing VACUUM included)", unit: "bytes", of: (p) => p.postgres.walBytesPer1000Edits },
  { key: "walMaintenance", title: "of which the VACUUM closing the window (work left for later)", unit: "bytes", of: (p) => p.postgres.maintenanceWalBytesPer1000Edits ?? Number.NaN },
  { key: "writeTransactions", title: "Postgres write transactions per 1,000 edits (the ones that took a transaction id)", unit: "tx", of: (p) => p.postgres.writeTransactionsPer1000Edits ?? Number.NaN },
  { key: "transactions", title: "Postgres commits per 1,000 edits, reads included", unit: "tx", of: (p) => p.postgres.transactionsPer1000Edits },
  { key: "tuples", title: "Postgres tuples written per 1,000 edits", unit: "tuples", of: (p) => p.postgres.tuplesPer1000Edits },
  { key: "missing", title: "markers missing from Postgres after quiescence", unit: "markers", of: (p) => p.missingFromStore },
];

/** RSS of the processes the system started itself (shared NATS, Redis and Postgres are reported apart). */
function ownRss(point: PointResult): number {
  const shared = new Set(["NATS", "Redis", "Postgres backends"]);
  return point.processes.filter((p) => !shared.has(p.name)).reduce((sum, p) => sum + p.maxRssMiB, 0);
}

/** Which systems are compared with which: each Weirwood shape and level against the Hocuspocus setup of the same size. */
export const PAIRS: [weirwood: string, peer: string][] = [
  ["weirwood-1x1-edge", "hocuspocus-1"],
  ["weirwood-1x1-pop", "hocuspocus-1"],
  ["weirwood-2x2-edge", "hocuspocus-redis-2"],
  ["weirwood-2x2-pop", "hocuspocus-redis-2"],
];

export interface Comparison {
  figure: string;
  load: string;
  a: { system: string; value: number };
  b: { system: string; value: number };
  /** The system with the lower value, or "tie"; `ratio` = higher / lower (Infinity when the lower is 0). */
  ahead: string;
  ratio: number;
  sentence: string;
}

export function loadLabel(load: LoadPoint): string {
  return `${load.clients} clients, ${load.ratePerSecond} edits/s, ${load.durationMs / 1000} s`;
}

function formatValue(value: number, unit: string): string {
  if (unit === "bytes") return value >= 1e6 ? `${(value / 1e6).toFixed(2)} MB` : `${(value / 1e3).toFixed(1)} kB`;
  if (unit === "share") return `${(value * 100).toFixed(2)}%`;
  return `${Number.isInteger(value) ? value : value.toFixed(value < 10 ? 3 : 1)} ${unit}`;
}

export function compare(points: PointResult[]): Comparison[] {
  const comparisons: Comparison[] = [];
  const labelOf = new Map(points.map((p) => [p.system, p.label]));
  const loads = [...new Map(points.map((p) => [loadLabel(p.load), p.load])).values()];
  for (const load of loads) {
    const at = (system: string) => points.find((p) => p.system === system && loadLabel(p.load) === loadLabel(load));
    for (const [weirwood, peer] of PAIRS) {
      const a = at(weirwood);
      const b = at(peer);
      if (!a || !b) continue;
      for (const figure of FIGURES) {
        const va = figure.of(a);
        const vb = figure.of(b);
        if (Number.isNaN(va) || Number.isNaN(vb)) continue;
        const low = Math.min(va, vb);
        const high = Math.max(va, vb);
        const ahead = va === vb ? "tie" : va < vb ? weirwood : peer;
        const ratio = va === vb ? 1 : low === 0 ? Number.POSITIVE_INFINITY : high / low;
        const name = (id: string) => labelOf.get(id) ?? id;
        const sentence =
          ahead === "tie"
            ? `${figure.title}, ${loadLabel(load)}: ${name(weirwood)} and ${name(peer)} tie (${formatValue(va, figure.unit)})`
            : `${figure.title}, ${loadLabel(load)}: ${name(ahead)} ahead${Number.isFinite(ratio) ? ` by ×${ratio.toFixed(ratio < 10 ? 2 : 0)}` : ""} ` +
              `(${name(weirwood)} ${formatValue(va, figure.unit)}, ${name(peer)} ${formatValue(vb, figure.unit)})`;
        comparisons.push({ figure: figure.key, load: loadLabel(load), a: { system: weirwood, value: va }, b: { system: peer, value: vb }, ahead, ratio, sentence });
      }
    }
  }
  return comparisons;
}

export interface PeersReport {
  date: string;
  command: string;
  quick: boolean;
  machine: { cores: number; model: string; loadAverageAtStart: number[]; note: string };
  versions: Record<string, string>;
  settings: { systems: { id: string; label: string; settings: string }[]; probes: number; workers: number; pinning: string; crashKillAfterMs: number };
  loads: LoadPoint[];
  points: PointResult[];
  crashes: CrashResult[];
  comparisons: Comparison[];
  crashComparisons: string[];
  failures: string[];
}

export function machineInfo(): PeersReport["machine"] {
  return {
    cores: cpus().length,
    model: cpus()[0]?.model ?? "unknown",
    loadAverageAtStart: loadavg().map((v) => Math.round(v * 100) / 100),
    note: "Shared machine: other engineers' tests ran on the same cores, Postgres, NATS and Redis during the run; WAL is cluster-wide, so their writes count too.",
  };
}

export function commitOf(): string {
  try {
    return execSync("git rev-parse --short HEAD", { encoding: "utf8" }).trim();
  } catch {
    return "unknown";
  }
}

/** Crash lines: the share of markers sent more than 1 s before the SIGKILL that Postgres never got. */
export function crashSentences(crashes: CrashResult[]): string[] {
  return crashes.map(
    (c) =>
      `${c.label}: ${c.lostBeforeKill.toLocaleString("en-US")} of ${c.sentBeforeKill.toLocaleString("en-US")} markers sent > 1 s before the SIGKILL (${(c.killedAfterMs / 1000).toFixed(1)} s into ${loadLabel(c.load)}) never reached Postgres`,
  );
}

export function printReport(report: PeersReport, log: (line: string) => void): void {
  log("");
  log(`peers bench (${report.machine.cores} cores, load ${report.machine.loadAverageAtStart.join(" ")} at start)`);
  for (const p of report.points) {
    log(
      `  ${p.label.padEnd(40)} ${loadLabel(p.load).padEnd(30)} p50 ${p.delivery.latencyMs.p50} p99 ${p.delivery.latencyMs.p99} max ${p.delivery.latencyMs.max} ms, ` +
        `${(p.delivery.ratio * 100).toFixed(2)}% delivered, CPU ${p.serverCpuSecondsPer1000Edits} s/1k, WAL ${(p.postgres.walBytesPer1000Edits / 1e3).toFixed(1)} kB/1k (vacuum after ${((p.postgres.maintenanceWalBytesPer1000Edits ?? Number.NaN) / 1e3).toFixed(1)}), ` +
        `write tx ${p.postgres.writeTransactionsPer1000Edits}/1k (commits incl. reads ${p.postgres.transactionsPer1000Edits}/1k), missing ${p.missingFromStore}`,
    );
  }
  for (const line of report.crashComparisons) log(`  crash: ${line}`);
  for (const failure of report.failures) log(`  FAILED: ${failure}`);
}
