/**
 * What the ops view shows at one instant: the SSE stream sends these, the
 * ring buffer keeps the last minutes of them, the page draws them. A figure
 * that could not be read is absent (undefined), never zero.
 */

export type Durability = "edge" | "pop" | "origin";
export const DURABILITIES: readonly Durability[] = ["edge", "pop", "origin"];

export interface Latency {
  /** Seconds, over the last scrape interval. */
  p50?: number;
  p99?: number;
}

export interface ReplicaFigures {
  connections?: number;
  pagesHeld?: number;
  acceptedPerSecond?: number;
  refusedPerSecond?: number;
  ackLatency: Partial<Record<Durability, Latency>>;
  /** Resident memory of the replica's process; absent when it shares one (the embedded default). */
  rssBytes?: number;
  brokerRttSeconds?: number;
  durability?: Durability;
}

export interface ReplicaView {
  pop: string;
  replica: string;
  httpUrl: string;
  /** From membership: heartbeating, leaving, or gone. */
  state: "up" | "draining" | "gone";
  /** Whether its /metrics answered this round; a gone replica is not asked. */
  reachable: boolean;
  error?: string;
  goneAt?: number;
  figures?: ReplicaFigures;
}

export interface PopView {
  pop: string;
  replicas: ReplicaView[];
  acceptedPerSecond?: number;
  refusedPerSecond?: number;
  /** Pages with edits the origin has not acknowledged, each once (counted by its flusher). */
  dirtyPages?: number;
  dirtyBytes?: number;
  /** Since the newest batch any replica of the PoP had acknowledged; absent when none has flushed yet. */
  secondsSinceFlush?: number;
  /** Entries in the PoP's JetStream log (only at `pop` durability). */
  logBacklog?: number;
}

export interface OriginView {
  batchesPerSecond?: number;
  pagesPerSecond?: number;
  editsPerSecond?: number;
  /** Edits per origin transaction over the last `batchingWindowSeconds`. */
  batchingFactor?: number;
  batchingWindowSeconds?: number;
  errorsPerSecond?: number;
  errorsTotal?: number;
  mergeP99?: number;
  rssBytes?: number;
}

export interface HotPageView {
  slug: string;
  editors: number;
  followers: number;
  pops: string[];
}

export interface OpsSnapshot {
  at: number;
  /** False when this origin hears no broker, so it knows no edges. */
  edgesKnown: boolean;
  pops: PopView[];
  origin: OriginView;
  hotPages: HotPageView[];
  /** System-wide: every PoP's acknowledged edits per second, and ack latency per durability. */
  acceptedPerSecond?: number;
  ackLatency: Partial<Record<Durability, Latency>>;
}
