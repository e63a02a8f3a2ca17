import { execFileSync } from "node:child_process";
import { cpus, totalmem } from "node:os";
import { acksBelow } from "../load/ack-durability";
import type { DurabilityLevel } from "../../protocol/messages";
import type { LevelReport, SpikeSettings } from "./level-report";
import type { ReadersReport } from "./read-phases";

/** DESIGN.md, "Targets". */
export const TARGETS = {
  ackP99Ms: { edge: 5, pop: 10 } as Record<string, number | undefined>,
  ratioAgainstWriteThrough: 10,
  batchingFactor: 1000,
  transactionsPerFlusherPerInterval: 1,
  /** Issue 21: 10,000 views/s offered on 5 hot pages through a cache. */
  readers: { viewsPerSec: 10_000, pages: 5, originRendersPerSec: 10, readP99Ms: 50 },
};

/** The fields every level (and the baseline) reports at the top of the JSON, so that other tools can read it. */
const SUMMARY_FIELDS = [
  "scenario",
  "durability",
  "editors",
  "browsers",
  "durationS",
  "acked",
  "lost",
  "duplicated",
  "converged",
  "convergenceMs",
  "ackLatencyMs",
  "ackedPerSec",
  "originTransactions",
  "batchingFactor",
] as const;

export type LevelSummary = Pick<LevelReport, (typeof SUMMARY_FIELDS)[number]>;

export function summaryOf(level: LevelReport): LevelSummary {
  return Object.fromEntries(SUMMARY_FIELDS.map((field) => [field, level[field]])) as LevelSummary;
}

export interface SpikeReport extends LevelSummary {
  baseline: LevelSummary | null;
  /** Against the write-through baseline of the same run: how many times lower the ack p99, how many times more acked/s. */
  ratios: Record<string, { p99LowerBy: number | null; ackedPerSecMoreBy: number | null; peakAckedPerSecMoreBy: number | null }>;
  ok: boolean;
  failures: string[];
  levels: LevelReport[];
  /** `--readers`: anonymous views through the nginx cache and straight at the origin, after the levels. */
  readers: ReadersReport | null;
  settings: SpikeSettings;
  targets: typeof TARGETS;
  deployment: { kind: "managed" | "target"; originUrl: string; opsUrl: string };
  machine: { cores: number; model: string | undefined; memoryGiB: number };
  code: { commit: string; uncommitted: number };
  date: string;
  command: string;
  wallS: number;
}

function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  return a && b && Number.isFinite(a) && Number.isFinite(b) ? Math.round((a / b) * 10) / 10 : null;
}

/**
 * What fails the run: anything acknowledged lost or duplicated, an ack
 * weaker than the level under test, a replica or browser that did not
 * converge, a crash, a mid-spike event that failed.
 */
const LEVEL_RANK: Record<DurabilityLevel, number> = { edge: 0, pop: 1, origin: 2 };

/** Whether a browser's saved level is at least the level under test (unknown: not). */
function atLeast(saved: DurabilityLevel | undefined, level: DurabilityLevel): boolean {
  return saved !== undefined && LEVEL_RANK[saved]! >= LEVEL_RANK[level]!;
}

export function failuresOf(levels: readonly LevelReport[]): string[] {
  const failures: string[] = [];
  for (const level of levels) {
    const weak = acksBelow(level.acksByDurability, level.durability);
    if (weak > 0) failures.push(`${level.durability}: ${weak} acks claimed less than ${level.durability} durability (${JSON.stringify(level.acksByDurability)})`);
    for (const fault of level.faults) if (fault.what === "event failed") failures.push(`${level.durability}: a mid-spike event failed at +${fault.atS}s: ${fault.detail}`);
    if (level.lost > 0) failures.push(`${level.durability}: ${level.lost} acknowledged edits lost`);
    if (level.duplicated > 0) failures.push(`${level.durability}: ${level.duplicated} acknowledged edits duplicated`);
    if (level.verification.origin.unackedDuplicated > 0) failures.push(`${level.durability}: ${level.verification.origin.unackedDuplicated} unacknowledged edits duplicated`);
    if (!level.converged) failures.push(`${level.durability}: the origin and the replicas did not converge`);
    // At write-through a browser may still be waiting for the origin when the harness stops; at the edge it may not.
    const unsaved = level.browserEditors.filter((browser) => !browser.saved).length;
    if (level.durability !== "origin" && unsaved > 0) failures.push(`${level.durability}: ${unsaved} browsers never said their edits were saved`);
    // A browser says which durability its edits reached: none may say less than the level under test.
    const weakBrowsers = level.browserEditors.filter((browser) => browser.saved && !atLeast(browser.savedLevel, level.durability));
    for (const browser of weakBrowsers) failures.push(`${level.durability}: browser ${browser.index} said "${browser.savedAs ?? "?"}", less than ${level.durability} durability`);
    if (!level.browsersConverged) failures.push(`${level.durability}: a browser that said its edits were saved does not show the origin's text`);
    for (const crash of level.crashes) failures.push(`${level.durability}: replica ${crash.replica} exited (${crash.exit}) during the run`);
    if (level.connected < level.editors) failures.push(`${level.durability}: only ${level.connected} of ${level.editors} editors connected`);
  }
  return failures;
}

export function buildReport(options: {
  levels: LevelReport[];
  readers?: ReadersReport | null;
  settings: SpikeSettings;
  deployment: { kind: "managed" | "target"; originUrl: string };
  startedAt: number;
}): SpikeReport {
  const { levels } = options;
  const baseline = levels.find((level) => level.durability === "origin" && levels.length > 1) ?? null;
  const primary = levels.find((level) => level !== baseline) ?? levels[0]!;
  const ratios: SpikeReport["ratios"] = {};
  if (baseline) {
    for (const level of levels) {
      if (level === baseline) continue;
      ratios[level.durability] = {
        p99LowerBy: ratio(baseline.ackLatencyMs.p99, level.ackLatencyMs.p99),
        ackedPerSecMoreBy: ratio(level.ackedPerSec, baseline.ackedPerSec),
        peakAckedPerSecMoreBy: ratio(level.peakAckedPerSec, baseline.peakAckedPerSec),
      };
    }
  }
  const failures = failuresOf(levels);
  return {
    ...summaryOf(primary),
    baseline: baseline ? summaryOf(baseline) : null,
    ratios,
    ok: failures.length === 0,
    failures,
    levels,
    readers: options.readers ?? null,
    settings: options.settings,
    targets: TARGETS,
    deployment: { ...options.deployment, opsUrl: `${options.deployment.originUrl}/ops` },
    machine: { cores: cpus().length, model: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30) },
    code: codeVersion(),
    date: new Date().toISOString(),
    command: `npm run spike -- ${process.argv.slice(2).join(" ")}`.trim(),
    wallS: Math.round((Date.now() - options.startedAt) / 1000),
  };
}

function codeVersion(): SpikeReport["code"] {
  try {
    const commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim();
    const status = execFileSync("git", ["status", "--porcelain", "--", "edge", "origin", "common", "prisma", "app", "components"], { encoding: "utf8" });
    return { commit, uncommitted: status.split("\n").filter(Boolean).length };
  } catch {
    return { commit: "unknown", uncommitted: 0 };
  }
}

/** The terminal's closing table: each level's figures beside the targets, and the ratios against write-through. */
export function printSummary(report: SpikeReport, log: (line: string) => void): void {
  const ms = (value: number | null | undefined) => (value === null || value === undefined || !Number.isFinite(value) ? "-" : value < 10 ? value.toFixed(2) : Math.round(value).toLocaleString("en-US"));
  log(`\nSpike "${report.scenario}": ${report.editors} protocol editors + ${report.browsers} browsers, ${report.settings.pages} pages, ${report.durationS} s measured`);
  const header = ["level", "acked", "acked/s", "peak/s", "p50 ms", "p99 ms", "max ms", "origin tx", "batching", "lost", "dup", "converged in", "target (DESIGN.md)"];
  log(header.join("  "));
  for (const level of report.levels) {
    const target = TARGETS.ackP99Ms[level.durability];
    const targetText =
      level === report.levels.find((l) => l.durability === "origin") ? "write-through baseline" : target ? `p99 <= ${target} ms: ${level.ackLatencyMs.p99 <= target ? "met" : "MISSED"}` : "";
    log(
      [
        level.durability.padEnd(5),
        String(level.acked),
        String(level.ackedPerSec),
        String(level.peakAckedPerSec),
        ms(level.ackLatencyMs.p50),
        ms(level.ackLatencyMs.p99),
        ms(level.ackLatencyMs.max),
        String(level.originTransactions ?? "-"),
        String(level.batchingFactor ?? "-"),
        String(level.lost),
        String(level.duplicated),
        level.converged ? `${level.convergenceMs} ms` : "NO",
        targetText,
      ].join("  "),
    );
  }
  for (const [level, r] of Object.entries(report.ratios)) {
    const mark = (value: number | null) => (value === null ? "-" : `${value}x ${value >= TARGETS.ratioAgainstWriteThrough ? "met" : "MISSED"}`);
    log(`  ${level} against write-through: p99 lower by ${mark(r.p99LowerBy)}, acked/s at the peak higher by ${mark(r.peakAckedPerSecMoreBy)} (target >= ${TARGETS.ratioAgainstWriteThrough}x)`);
  }
  for (const level of report.levels) {
    if (level.bootstrap) log(`  ${level.durability}: replica added mid-spike ready in ${level.bootstrap.processReadyMs} ms, hottest page synced in ${level.bootstrap.firstSyncMs} ms`);
    for (const fault of level.faults) log(`  ${level.durability}: +${fault.atS}s ${fault.what}: ${fault.detail}`);
  }
  if (report.readers) printReaders(report.readers, log);
  log(report.ok ? "\nOK: nothing acknowledged was lost or duplicated, and every replica, the origin and every browser converged." : `\nFAILED:\n  ${report.failures.join("\n  ")}`);
}

/** The readers' phases side by side, the cache's beside issue 21's targets. */
function printReaders(readers: ReadersReport, log: (line: string) => void): void {
  const target = TARGETS.readers;
  log(
    `\nReaders: ${readers.settings.viewsPerSec} views/s offered on ${readers.pages.length} pages, ${readers.settings.seconds} s per path, ` +
      (readers.settings.during ? "during the first level's load" : `after the levels, ${readers.edits.merged} edits merged meanwhile`),
  );
  log(["through", "offered/s", "answered/s", "skipped", "failed", "p50 ms", "p99 ms", "p99 of offered", "hit ratio", "origin renders/s", "origin 304/s", "Postgres tx/s", "target (issue 21)"].join("  "));
  for (const phase of readers.phases) {
    const targetText =
      phase.through === "cache"
        ? `renders <= ${target.originRendersPerSec}/s: ${phase.originRendersPerSec !== null && phase.originRendersPerSec <= target.originRendersPerSec ? "met" : "MISSED"}, ` +
          `p99 <= ${target.readP99Ms} ms: ${phase.latencyMs.p99 <= target.readP99Ms ? "met" : "MISSED"} (at ${phase.offeredPerSec} of ${target.viewsPerSec.toLocaleString("en-US")} views/s)`
        : "no cache: what the cache saves";
    log(
      [
        phase.through.padEnd(7),
        String(phase.offeredPerSec),
        String(phase.answeredPerSec),
        String(phase.skipped),
        String(phase.failed),
        String(phase.latencyMs.p50),
        String(phase.latencyMs.p99),
        String(phase.p99OfOfferedMs ?? "-"),
        phase.hitRatio === null ? "-" : String(phase.hitRatio),
        String(phase.originRendersPerSec ?? "-"),
        String(phase.originNotModifiedPerSec ?? "-"),
        String(phase.postgresTransactionsPerSec ?? "-"),
        targetText,
      ].join("  "),
    );
  }
}
