import type { EdgeEntry, GoneEdge } from "../edge-directory";
import { bucketIncrease, buckets, counterRate, quantile, type Scrape, total } from "./aggregate";
import {
  DURABILITIES,
  type Durability,
  type HotPageView,
  type Latency,
  type OpsSnapshot,
  type OriginView,
  type PopView,
  type ReplicaFigures,
  type ReplicaView,
} from "./snapshot-types";

/** A live replica's last two scrapes (the first round has no previous one). */
export interface ReplicaScrapes {
  entry: EdgeEntry;
  previous: Scrape | undefined;
  current: Scrape;
}

export interface SnapshotInput {
  at: number;
  edgesKnown: boolean;
  live: ReplicaScrapes[];
  gone: GoneEdge[];
  /** The origin's own metrics, now, one round ago, and at the start of the batching window. */
  origin: { previous: Scrape | undefined; current: Scrape; windowStart: Scrape | undefined };
}

type Buckets = { le: number; count: number }[];

const ACK = "weirwood_edge_ack_latency_seconds";

function gauge(scrape: Scrape, name: string, labels: Record<string, string> = {}): number | undefined {
  return scrape.ok ? total(scrape.samples, name, labels) : undefined;
}

/** Bucket counts observed between two scrapes, or undefined without both. */
function recentBuckets(previous: Scrape | undefined, current: Scrape, name: string, labels: Record<string, string> = {}): Buckets | undefined {
  if (!previous?.ok || !current.ok) return undefined;
  return bucketIncrease(buckets(previous.samples, name, labels), buckets(current.samples, name, labels));
}

function addBuckets(into: Map<number, number>, add: Buckets | undefined): void {
  for (const bucket of add ?? []) into.set(bucket.le, (into.get(bucket.le) ?? 0) + bucket.count);
}

function latencyOf(counts: Buckets | Map<number, number> | undefined): Latency | undefined {
  if (!counts) return undefined;
  const list = counts instanceof Map ? [...counts].map(([le, count]) => ({ le, count })) : counts;
  const p50 = quantile(list, 0.5);
  return p50 === undefined ? undefined : { p50, p99: quantile(list, 0.99) };
}

/** Sum of the defined values; undefined when none is (nobody could be read). */
function sum(values: (number | undefined)[]): number | undefined {
  const known = values.filter((value): value is number => value !== undefined && !Number.isNaN(value));
  return known.length === 0 ? undefined : known.reduce((a, b) => a + b, 0);
}

function max(values: (number | undefined)[]): number | undefined {
  const known = values.filter((value): value is number => value !== undefined && !Number.isNaN(value));
  return known.length === 0 ? undefined : Math.max(...known);
}

function durabilityOf(scrape: Scrape): Durability | undefined {
  if (!scrape.ok) return undefined;
  const info = scrape.samples.find((sample) => sample.name === "weirwood_edge_info" && sample.value === 1);
  const level = info?.labels.durability;
  return DURABILITIES.find((known) => known === level);
}

function replicaFigures({ previous, current }: ReplicaScrapes): ReplicaFigures | undefined {
  if (!current.ok) return undefined;
  const ackLatency: ReplicaFigures["ackLatency"] = {};
  for (const durability of DURABILITIES) {
    const latency = latencyOf(recentBuckets(previous, current, ACK, { durability }));
    if (latency) ackLatency[durability] = latency;
  }
  return {
    connections: gauge(current, "weirwood_edge_connections"),
    pagesHeld: gauge(current, "weirwood_edge_pages_held"),
    acceptedPerSecond: previous ? counterRate(previous, current, "weirwood_edge_edits_total", { result: "accepted" }) : undefined,
    refusedPerSecond: previous ? counterRate(previous, current, "weirwood_edge_edits_total", { result: "refused" }) : undefined,
    ackLatency,
    rssBytes: gauge(current, "weirwood_edge_process_resident_memory_bytes"),
    brokerRttSeconds: gauge(current, "weirwood_edge_broker_rtt_seconds"),
    durability: durabilityOf(current),
  };
}

function popView(pop: string, at: number, live: ReplicaScrapes[], gone: GoneEdge[]): PopView {
  const readable = live.filter((replica) => replica.current.ok);
  const figures = live.map(replicaFigures);
  const lastFlush = max(readable.map((replica) => gauge(replica.current, "weirwood_edge_last_flush_timestamp_seconds")));
  const atPop = readable.filter((replica) => durabilityOf(replica.current) === "pop");
  const replicas: ReplicaView[] = [
    ...live.map(({ entry, current }, i): ReplicaView => ({
      pop,
      replica: entry.replica,
      httpUrl: entry.httpUrl,
      state: entry.state,
      reachable: current.ok,
      ...(current.ok ? {} : { error: current.error }),
      figures: figures[i],
    })),
    ...gone.map((edge): ReplicaView => ({ pop, replica: edge.replica, httpUrl: edge.httpUrl, state: "gone", reachable: false, goneAt: edge.goneAt })),
  ];
  return {
    pop,
    replicas,
    acceptedPerSecond: sum(figures.map((f) => f?.acceptedPerSecond)),
    refusedPerSecond: sum(figures.map((f) => f?.refusedPerSecond)),
    dirtyPages: sum(readable.map((replica) => gauge(replica.current, "weirwood_edge_owned_unflushed_pages"))),
    dirtyBytes: sum(readable.map((replica) => gauge(replica.current, "weirwood_edge_owned_unflushed_bytes"))),
    // 0 means "never flushed" (nothing was dirty yet): no figure rather than 55 years.
    secondsSinceFlush: lastFlush ? Math.max(0, at / 1000 - lastFlush) : undefined,
    // Every replica of a PoP reads the same stream: the newest reading is the backlog.
    logBacklog: max(atPop.map((replica) => gauge(replica.current, "weirwood_edge_pop_log_entries"))),
  };
}

function originView(input: SnapshotInput["origin"]): OriginView {
  const { previous, current, windowStart } = input;
  const perSecond = (name: string, labels: Record<string, string> = {}) => (previous ? counterRate(previous, current, name, labels) : undefined);
  let batchingFactor: number | undefined;
  let batchingWindowSeconds: number | undefined;
  if (windowStart?.ok && current.ok && current.at > windowStart.at) {
    // Over a window of several flush intervals: in one second a PoP flushes
    // at most once, so a one-second ratio would swing between 0 and huge.
    // Rates over the same window: their ratio is the ratio of the increases.
    const batches = counterRate(windowStart, current, "weirwood_origin_batches_total", { result: "merged" }) ?? 0;
    const edits = counterRate(windowStart, current, "weirwood_origin_edits_merged_total") ?? 0;
    if (batches > 0) batchingFactor = edits / batches;
    batchingWindowSeconds = (current.at - windowStart.at) / 1000;
  }
  return {
    batchesPerSecond: perSecond("weirwood_origin_batches_total", { result: "merged" }),
    pagesPerSecond: perSecond("weirwood_origin_pages_merged_total"),
    editsPerSecond: perSecond("weirwood_origin_edits_merged_total"),
    batchingFactor,
    batchingWindowSeconds,
    errorsPerSecond: perSecond("weirwood_origin_batch_errors_total"),
    errorsTotal: gauge(current, "weirwood_origin_batch_errors_total") ?? (current.ok ? 0 : undefined),
    mergeP99: latencyOf(recentBuckets(previous, current, "weirwood_origin_merge_seconds"))?.p99,
    rssBytes: gauge(current, "weirwood_origin_process_resident_memory_bytes"),
  };
}

/** The hottest pages over every readable replica: a page's connections summed across replicas and PoPs. */
function hotPages(live: ReplicaScrapes[], limit: number): HotPageView[] {
  const pages = new Map<string, HotPageView>();
  for (const { entry, current } of live) {
    if (!current.ok) continue;
    for (const sample of current.samples) {
      if (sample.name !== "weirwood_edge_hot_page_clients" || !sample.labels.page) continue;
      const page = pages.get(sample.labels.page) ?? { slug: sample.labels.page, editors: 0, followers: 0, pops: [] };
      if (sample.labels.role === "editor") page.editors += sample.value;
      else page.followers += sample.value;
      if (!page.pops.includes(entry.pop)) page.pops.push(entry.pop);
      pages.set(page.slug, page);
    }
  }
  return [...pages.values()]
    .sort((a, b) => b.editors + b.followers - (a.editors + a.followers) || a.slug.localeCompare(b.slug))
    .slice(0, limit);
}

/** One instant of the ops view from the scrapes of one collection round. */
export function buildSnapshot(input: SnapshotInput, options: { hotPages: number } = { hotPages: 10 }): OpsSnapshot {
  const popNames = [...new Set([...input.live.map((r) => r.entry.pop), ...input.gone.map((edge) => edge.pop)])].sort();
  const pops = popNames.map((pop) =>
    popView(
      pop,
      input.at,
      input.live.filter((r) => r.entry.pop === pop),
      input.gone.filter((edge) => edge.pop === pop),
    ),
  );
  const ackLatency: OpsSnapshot["ackLatency"] = {};
  for (const durability of DURABILITIES) {
    const merged = new Map<number, number>();
    for (const replica of input.live) addBuckets(merged, recentBuckets(replica.previous, replica.current, ACK, { durability }));
    const latency = latencyOf(merged);
    if (latency) ackLatency[durability] = latency;
  }
  return {
    at: input.at,
    edgesKnown: input.edgesKnown,
    pops,
    origin: originView(input.origin),
    hotPages: hotPages(input.live, options.hotPages),
    acceptedPerSecond: sum(pops.map((pop) => pop.acceptedPerSecond)),
    ackLatency,
  };
}
