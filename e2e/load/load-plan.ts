import type { AcksByDurability } from "./ack-durability";
import { checkMarkerTag } from "./markers";
import { zipfAssignment } from "./zipf";

/**
 * What the load generator's main thread and its workers agree on: the
 * options, how editors are spread over workers, PoPs, replicas and pages,
 * and the messages they exchange. Types and pure functions only, so that
 * both sides import it.
 */

/** One edge replica a load editor may connect to: its ws:// base URL and its PoP. */
export interface EdgeTarget {
  pop: string;
  url: string;
}

/** Offered edits per second over all editors from `atS` seconds after the start (warm-up included). */
export interface RatePoint {
  atS: number;
  perSecond: number;
}

export interface LoadOptions {
  /** Editors are spread round-robin over the PoPs, then over each PoP's replicas. */
  edges: readonly EdgeTarget[];
  /** Edge tokens, handed out round-robin over the editors. */
  tokens: readonly string[];
  /** Page slugs, the most popular first: editors are assigned by Zipf rank. */
  pages: readonly string[];
  /** Zipf exponent of page popularity (default 1). */
  zipfExponent?: number;
  editors: number;
  /**
   * `open` (default): edits are offered at a fixed schedule whatever the
   * system does; an editor with `maxInFlight` edits unacknowledged skips
   * (sheds) its due edit, so a saturated system shows as offered > acked.
   * `closed`: each editor keeps `maxInFlight` edits in flight, sending the
   * next as soon as one is acknowledged: the system's saturation throughput
   * at this concurrency.
   */
  mode?: "open" | "closed";
  /** Offered edits per second over all editors (open loop): a constant or a piecewise-linear profile. */
  rate?: number | readonly RatePoint[];
  /** Unacknowledged edits an editor may have (default 2). */
  maxInFlight?: number;
  warmupSeconds: number;
  /** The measured window, after the warm-up. */
  seconds: number;
  /** How long to wait for in-flight acks after the last edit (default 15 s). */
  drainSeconds?: number;
  /** Worker threads (default 2). */
  workers?: number;
  /** Whether editors apply their co-editors' updates (default false: see ProtocolEditor.connect). */
  follow?: boolean;
  /** Letters that keep this run's markers apart from other runs' on the same pages. */
  markerTag?: string;
  /** Where editors type (default "random"): see EditMix. */
  mix?: EditMix;
  /** Seed of the page assignment and the editors' phases and positions. */
  seed?: number;
  /** Per-editor timeout to connect and sync (default 30 s). */
  connectTimeoutMs?: number;
  /** Called about once a second while edits are offered. */
  onProgress?: (progress: LoadProgress) => void;
}

/**
 * Where an editor puts each edit. "random": between two markers of its view,
 * anywhere on the page. Editors that do not follow (`follow: false`) see a
 * stale page, so each insert lands among hundreds of concurrent siblings the
 * edge's Yjs must scan (Item.integrate was 20% of the edges' time in the
 * bench:edge profile of 2026-11-23), a cost real co-editors, who see each
 * other's text within milliseconds, do not cause. "crowd": the first edit
 * goes where "random" puts it, every later one right after the editor's own
 * previous line, where nobody else writes: a line block of its own, as the
 * hot-page crowd types (e2e/spike/hot-page/seats.ts), so the edges integrate
 * what a real crowd makes them integrate.
 */
export type EditMix = "crowd" | "random";
export const EDIT_MIXES: readonly EditMix[] = ["crowd", "random"];

export interface LoadProgress {
  /** Seconds since the end of the warm-up (negative during it). */
  atS: number;
  offered: number;
  acked: number;
  failed: number;
  inFlight: number;
  /** Ack latency of the edits acknowledged in that second. */
  p50Ms: number;
  p99Ms: number;
  /** Updates and awareness messages the editors received from the edges (fan-out). */
  received: number;
}

/** One editor as a worker gets it. */
export interface EditorPlan {
  /** Index among the worker's editors; goes into the marker. */
  local: number;
  /** Index into LoadOptions.pages. */
  page: number;
  url: string;
  /** The other replicas of its PoP, where it reconnects when its own closes (any replica serves any page). */
  alternates: string[];
  pop: string;
  token: string;
}

export interface WorkerPlan {
  worker: number;
  editors: EditorPlan[];
  pages: string[];
  mode: "open" | "closed";
  /** Offered edits per second per editor (open loop). */
  ratePerEditor: RatePoint[];
  maxInFlight: number;
  drainMs: number;
  follow: boolean;
  markerTag: string;
  mix: EditMix;
  seed: number;
  connectTimeoutMs: number;
}

/** Main thread -> worker. */
export type ToWorker = { type: "start"; startAt: number; warmupMs: number; measureMs: number } | { type: "close" };

/** Per-edit records, one index per offered edit, as transferable arrays. */
export interface EditRecords {
  editor: Int32Array;
  n: Int32Array;
  page: Int32Array;
  /** Epoch ms when the edit was due. */
  scheduledAt: Float64Array;
  /** Epoch ms when it was sent; NaN when it was shed (editor at its in-flight cap, or not connected). */
  sentAt: Float64Array;
  /** Epoch ms when it was acknowledged; NaN when it never was. */
  ackedAt: Float64Array;
  /** 0: acked or shed; 1: socket closed before the ack; 2: still waiting at the end of the drain. */
  fate: Uint8Array;
}

export interface WorkerSummary {
  worker: number;
  editors: number;
  /** CPU seconds of the worker thread and its event-loop utilization over the measured window. */
  cpuSeconds: number;
  eventLoopUtilization: number;
  received: { updates: number; awareness: number; bytes: number };
  closes: Record<string, number>;
  reconnects: number;
  /** Acks received, by the durability each reported (counted up to the end of the drain). */
  acks: AcksByDurability;
}

/** Worker -> main thread. */
export type FromWorker =
  | { type: "ready"; connected: number; failures: Record<string, number> }
  | { type: "progress"; seq: number; at: number; offered: number; acked: number; failed: number; inFlight: number; latencies: number[]; received: number }
  | { type: "done"; records: EditRecords; summary: WorkerSummary }
  /** `lateAcked`: markers acknowledged after the drain ended, by page slug (still due in the loss check). */
  | { type: "closed"; lateAcked: [string, string[]][] };

/** Validates options and splits the editors over workers, PoPs, replicas, pages and tokens. */
export function planWorkers(options: LoadOptions): WorkerPlan[] {
  const workers = options.workers ?? 2;
  const mode = options.mode ?? "open";
  if (options.edges.length === 0) throw new Error("load: at least one edge URL is needed");
  if (options.tokens.length === 0) throw new Error("load: at least one token is needed");
  if (options.pages.length === 0) throw new Error("load: at least one page is needed");
  if (!Number.isInteger(options.editors) || options.editors < 1) throw new Error(`load: editors must be a positive integer, got ${options.editors}`);
  if (!Number.isInteger(workers) || workers < 1) throw new Error(`load: workers must be a positive integer, got ${workers}`);
  const maxInFlight = options.maxInFlight ?? 2;
  if (!Number.isInteger(maxInFlight) || maxInFlight < 1) throw new Error(`load: maxInFlight must be a positive integer, got ${maxInFlight}`);
  if (!(options.seconds > 0) || !(options.warmupSeconds >= 0)) {
    throw new Error(`load: seconds must be > 0 and warmupSeconds >= 0, got ${options.seconds} and ${options.warmupSeconds}`);
  }
  const profile = rateProfile(mode === "open" ? options.rate : 0);
  const ratePerEditor = profile.map((point) => ({ atS: point.atS, perSecond: point.perSecond / options.editors }));
  const seed = options.seed ?? 1;

  // PoPs in order of first appearance; each PoP's replicas in the order given.
  const pops = new Map<string, EdgeTarget[]>();
  for (const edge of options.edges) pops.set(edge.pop, [...(pops.get(edge.pop) ?? []), edge]);
  const popList = [...pops.values()];
  const pageOf = zipfAssignment(options.editors, options.pages.length, { exponent: options.zipfExponent ?? 1, seed });

  const plans: WorkerPlan[] = Array.from({ length: Math.min(workers, options.editors) }, (_, worker) => ({
    worker,
    editors: [],
    pages: [...options.pages],
    mode,
    ratePerEditor,
    maxInFlight,
    drainMs: (options.drainSeconds ?? 15) * 1000,
    follow: options.follow ?? false,
    markerTag: checkMarkerTag(options.markerTag ?? ""),
    mix: options.mix ?? "random",
    seed: seed * 7919 + worker,
    connectTimeoutMs: options.connectTimeoutMs ?? 30_000,
  }));
  for (let k = 0; k < options.editors; k++) {
    const replicas = popList[k % popList.length]!;
    const replica = Math.floor(k / popList.length) % replicas.length;
    const edge = replicas[replica]!;
    const alternates = [...replicas.slice(replica + 1), ...replicas.slice(0, replica)].map((other) => other.url);
    // Each worker takes whole rounds over the edges, so that every worker
    // drives editors on every PoP and replica.
    const plan = plans[Math.floor(k / options.edges.length) % plans.length]!;
    plan.editors.push({
      local: plan.editors.length,
      page: pageOf[k]!,
      url: edge.url,
      alternates,
      pop: edge.pop,
      token: options.tokens[k % options.tokens.length]!,
    });
  }
  return plans;
}

function rateProfile(rate: LoadOptions["rate"]): RatePoint[] {
  const points = typeof rate === "number" || rate === undefined ? [{ atS: 0, perSecond: rate ?? 0 }] : [...rate];
  if (points.length === 0) throw new Error("load: a rate profile needs at least one point");
  for (const point of points) {
    if (!(point.perSecond >= 0) || !(point.atS >= 0)) throw new Error(`load: rate points need atS >= 0 and perSecond >= 0, got ${JSON.stringify(point)}`);
  }
  return points.sort((a, b) => a.atS - b.atS);
}

/** The profile's rate at `atS` seconds: linear between points, flat outside them. */
export function rateAt(profile: readonly RatePoint[], atS: number): number {
  const first = profile[0]!;
  if (atS <= first.atS) return first.perSecond;
  for (let i = 1; i < profile.length; i++) {
    const point = profile[i]!;
    if (atS <= point.atS) {
      const before = profile[i - 1]!;
      const span = point.atS - before.atS;
      return span === 0 ? point.perSecond : before.perSecond + ((atS - before.atS) / span) * (point.perSecond - before.perSecond);
    }
  }
  return profile[profile.length - 1]!.perSecond;
}
