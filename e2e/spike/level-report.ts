import type { DurabilityLevel } from "../../protocol/messages";
import type { AcksByDurability } from "../load/ack-durability";
import type { UsageReport } from "../load/process-usage";
import type { Percentiles } from "../load/stats";
import type { BrowserEditorReport } from "./browser-editors";
import type { ConvergenceReport } from "./convergence";
import type { NatsKind } from "./deployment";
import type { Scenario } from "./scenarios";

/**
 * What a red-wedding or steady run is asked to do, and what one durability
 * level's run reports: shared by the run (run-level.ts), its mid-spike
 * events (mid-spike.ts), the report and the CLI.
 */
export interface SpikeSettings {
  scenario: Scenario;
  /** Protocol-level editors, and real Chromium pages typing through the wiki's editor. */
  editors: number;
  browsers: number;
  /** Hot pages (Zipf popularity, exponent `zipf`). */
  pages: number;
  zipf: number;
  /** Measured seconds, after `warmupS` of warm-up at the base rate. */
  durationS: number;
  warmupS: number;
  /** Offered protocol edits per second at the peak, and outside it (red-wedding). */
  peakRate: number;
  baseRate: number;
  pops: number;
  replicasPerPop: number;
  flushMs: number;
  workers: number;
  /** Milliseconds between one browser's edits. */
  browserEditMs: number;
  /** Mid-peak faults (managed deployment only). */
  killReplica: boolean;
  stopOriginS: number;
  addReplica: boolean;
  /** The NATS the managed deployment runs on (deployment.ts NATS_KINDS), and its Postgres. */
  nats: NatsKind;
  postgres: "shared" | "private";
  /** Origin processes over the one database; the PoPs flush to them in turn. */
  origins: number;
  /** Faults of the engine, mid-peak: SIGKILL of the first PoP's log leader (R3, for good)... */
  killNats: boolean;
  /** ...SIGKILL and restart after this many seconds of one of the first PoP's servers (0: none)... */
  restartNatsS: number;
  /** ...the first PoP's leaf links to the hub cut for this many seconds... */
  partitionPopS: number;
  /** ...and Postgres crash-stopped for this many seconds. */
  restartPostgresS: number;
  /** Letters that keep this run's markers apart. */
  runTag: string;
}

/** One durability level's run: the fields every report carries, then the detail. */
export interface LevelReport {
  scenario: Scenario;
  durability: DurabilityLevel;
  editors: number;
  browsers: number;
  durationS: number;
  acked: number;
  lost: number;
  duplicated: number;
  converged: boolean;
  convergenceMs: number | null;
  ackLatencyMs: Percentiles;
  ackedPerSec: number;
  originTransactions: number | null;
  batchingFactor: number | null;

  pops: string[];
  replicas: string[];
  pages: { slug: string; editors: number; acked: number }[];
  offeredPerSec: number;
  peakAckedPerSec: number;
  connected: number;
  connectFailures: Record<string, number>;
  /** The protocol editors' acks by the durability each reported: none may claim less than `durability`. */
  acksByDurability: AcksByDurability;
  /** Acks that arrived after the drain (not in the figures), checked at the origin: each lost or duplicated one counts in `lost` / `duplicated` too. */
  lateAcks?: { count: number; lost: number; duplicated: number };
  /** Edits sent but never acknowledged (a killed replica's in-flight edits): allowed to be lost, never duplicated. */
  unacknowledged: number;
  browserEditors: (BrowserEditorReport & { textMatchesOrigin: boolean })[];
  /** Every browser that said its edits were saved shows the origin's text (one still waiting may show more). */
  browsersConverged: boolean;
  verification: ConvergenceReport;
  /** Per second of the measured window (negative: warm-up; past durationS: the drain). */
  timeline: { atS: number; offered: number; acked: number; p50Ms: number; p99Ms: number; maxMs: number; originTx: number; originEdits: number }[];
  /** Busiest flusher's origin transactions per flush interval. */
  transactionsPerFlusherPerInterval: number | null;
  usage: { summary: UsageReport; names: string[]; points: { atS: number; cpuPercent: number[]; rssMiB: number[] }[] };
  faults: { atS: number; what: string; detail: string }[];
  /** What the level ran on: NATS servers and log replicas, Postgres (managed deployment), or "as deployed". */
  topology: string;
  bootstrap: { replica: string; processReadyMs: number; firstSyncMs: number; pageBytes: number; loadedFrom: Record<string, number> } | null;
  crashes: { replica: string; exit: number | string; at: string }[];
  problems: string[];
  receivedPerEditorPerSec: number;
}
