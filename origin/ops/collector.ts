import type { EdgeEntry, GoneEdge } from "../edge-directory";
import type { Scrape } from "./aggregate";
import { parseMetricsText } from "./metrics-text";
import { RingBuffer } from "./ring-buffer";
import { buildSnapshot, type ReplicaScrapes } from "./snapshot";
import type { OpsSnapshot } from "./snapshot-types";

export interface CollectorOptions {
  /** The live and recently gone edges (the origin's EdgeDirectory); undefined when it hears no broker. */
  roster: () => { live: EdgeEntry[]; gone: GoneEdge[] } | undefined;
  /** The origin's own metrics text, read in-process. */
  originMetrics: () => Promise<string>;
  /** Reads a /metrics URL; rejects when it cannot. The default is fetch with a timeout. */
  fetchText?: (url: string, timeoutMs: number) => Promise<string>;
  /** Scrape period while someone watches (the charts' resolution). */
  watchedIntervalMs?: number;
  /** Scrape period while nobody watches, to keep history cheaply. */
  idleIntervalMs?: number;
  /** How much history to keep, and how long to keep scraping once nobody watches. */
  historyMs?: number;
  /** The batching factor's window: several flush intervals. */
  batchingWindowMs?: number;
  now?: () => number;
}

async function fetchMetrics(url: string, timeoutMs: number): Promise<string> {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!response.ok) throw new Error(`GET ${url} answered ${response.status}`);
  return response.text();
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error.cause as { code?: string } | undefined)?.code;
    return cause ? `${error.message} (${cause})` : error.message;
  }
  return String(error);
}

/**
 * Scrapes every edge the origin knows (their /metrics, over HTTP, as
 * Prometheus would) and the origin's own registry, builds one OpsSnapshot
 * per round, keeps the last minutes in a ring buffer and hands each new one
 * to the watchers (the SSE streams of /ops).
 *
 * Costs nothing until someone first opens /ops: then it scrapes every
 * second while anyone watches, every few seconds for `historyMs` after the
 * last one left (so that reopening shows the recent past), then stops.
 */
export class OpsCollector {
  private readonly options: Required<CollectorOptions>;
  private readonly buffer: RingBuffer<OpsSnapshot>;
  private readonly watchers = new Set<(snapshot: OpsSnapshot) => void>();
  private readonly lastScrapes = new Map<string, Scrape>();
  /** The origin's scrapes over the batching window, oldest first. */
  private originScrapes: Scrape[] = [];
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<OpsSnapshot> | undefined;
  private lastWatchedAt = 0;
  private stopped = false;

  constructor(options: CollectorOptions) {
    this.options = {
      fetchText: fetchMetrics,
      watchedIntervalMs: 1000,
      idleIntervalMs: 5000,
      historyMs: 5 * 60_000,
      batchingWindowMs: 30_000,
      now: Date.now,
      ...options,
    };
    this.buffer = new RingBuffer(Math.ceil(this.options.historyMs / this.options.watchedIntervalMs));
  }

  /** Starts watching: `listener` gets every new snapshot until the returned function is called. */
  watch(listener: (snapshot: OpsSnapshot) => void): () => void {
    this.watchers.add(listener);
    this.lastWatchedAt = this.options.now();
    this.stopped = false;
    // Idle scraping is every few seconds: come back to one a second at once.
    if (this.watchers.size === 1) this.schedule(0);
    return () => {
      this.watchers.delete(listener);
      this.lastWatchedAt = this.options.now();
    };
  }

  /** The snapshots of the last `historyMs`, oldest first. */
  history(): OpsSnapshot[] {
    const since = this.options.now() - this.options.historyMs;
    return this.buffer.toArray().filter((snapshot) => snapshot.at >= since);
  }

  get watching(): number {
    return this.watchers.size;
  }

  /** Whether it scrapes at all now (false: idle long enough, or stopped). */
  get running(): boolean {
    return this.timer !== undefined || this.round !== undefined;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** One collection round now (the timer's; tests call it directly). Rounds never overlap. */
  collect(): Promise<OpsSnapshot> {
    this.round ??= this.scrapeAll().finally(() => (this.round = undefined));
    return this.round;
  }

  private schedule(delayMs: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), delayMs);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    this.timer = undefined;
    if (this.stopped) return;
    const started = this.options.now();
    if (this.watchers.size === 0 && started - this.lastWatchedAt > this.options.historyMs) {
      // Asleep: the next round's rates must not span the whole pause.
      this.lastScrapes.clear();
      this.originScrapes = [];
      return;
    }
    await this.collect().catch(() => undefined);
    if (this.stopped) return;
    const interval = this.watchers.size > 0 ? this.options.watchedIntervalMs : this.options.idleIntervalMs;
    this.schedule(Math.max(0, interval - (this.options.now() - started)));
  }

  private async scrapeAll(): Promise<OpsSnapshot> {
    const { roster, fetchText, watchedIntervalMs, now } = this.options;
    const known = roster();
    const live = known?.live ?? [];
    // Rounds never overlap, so a dead host only stretches a round to the
    // timeout. It is a few rounds long because a replica busy with a spike
    // answers late (its event loop lags by a second or more) and must show
    // as busy, not as unreachable: seen with /ops open during the spike.
    const timeoutMs = Math.max(250, watchedIntervalMs * 3);
    const [originScrape, ...edgeScrapes] = await Promise.all([
      this.scrapeOrigin(),
      ...live.map((entry) => this.scrape(entry.replica, () => fetchText(`${entry.httpUrl}/metrics`, timeoutMs))),
    ]);
    const at = now();
    const replicas: ReplicaScrapes[] = live.map((entry, i) => {
      const key = `${entry.pop}/${entry.replica}`;
      const current = edgeScrapes[i]!;
      const previous = this.lastScrapes.get(key);
      this.lastScrapes.set(key, current);
      return { entry, previous, current };
    });
    const liveKeys = new Set(live.map((entry) => `${entry.pop}/${entry.replica}`));
    for (const key of this.lastScrapes.keys()) if (!liveKeys.has(key)) this.lastScrapes.delete(key);

    const previousOrigin = this.originScrapes.at(-1);
    this.originScrapes = [...this.originScrapes.filter((scrape) => at - scrape.at <= this.options.batchingWindowMs), originScrape!];
    const snapshot = buildSnapshot({
      at,
      edgesKnown: known !== undefined,
      live: replicas,
      gone: known?.gone ?? [],
      origin: { previous: previousOrigin, current: originScrape!, windowStart: this.originScrapes[0] },
    });
    this.buffer.push(snapshot);
    for (const watcher of this.watchers) watcher(snapshot);
    return snapshot;
  }

  private scrapeOrigin(): Promise<Scrape> {
    return this.scrape("origin", () => this.options.originMetrics());
  }

  /** One source's metrics, or why they could not be read: never a throw, never zeros. */
  private async scrape(replica: string, read: () => Promise<string>): Promise<Scrape> {
    try {
      const text = await read();
      return { replica, at: this.options.now(), ok: true, samples: parseMetricsText(text) };
    } catch (error) {
      return { replica, at: this.options.now(), ok: false, error: describe(error) };
    }
  }
}
