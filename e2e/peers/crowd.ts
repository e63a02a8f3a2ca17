import type { Worker } from "node:worker_threads";
import { WorkerInbox, startTsWorker } from "../load/worker-thread";
import { type Percentiles, percentiles } from "../load/stats";
import { seatsText } from "../spike/hot-page/seats";
import type { ClientWorkerData, FromWorker, ToWorker } from "./client-worker";
import { type ProviderKind, connectStockClient } from "./stock-client";

/** The load every system gets: one page, `clients` typists, `ratePerSecond` edits in total, open loop, for `durationMs`. */
export interface LoadPoint {
  clients: number;
  ratePerSecond: number;
  durationMs: number;
}

export interface CrowdRun {
  /** Epoch ms that marker times count from. */
  epoch: number;
  /** When the load began and ended, in ms after the epoch. */
  startMs: number;
  endMs: number;
  /** Every edit sent: marker id -> send time (ms after the epoch). */
  sent: Map<string, number>;
}

export interface Delivery {
  latencyMs: Percentiles;
  /** Markers seen by the probes / (markers sent x probes). */
  delivered: number;
  expected: number;
}

/**
 * The bench's clients for one system and load point: a seeder writes one
 * line per typist (seats.ts), then `workers` threads of stock-provider
 * clients and probes connect, and type when told to.
 */
export class Crowd {
  private constructor(
    private readonly threads: { worker: Worker; inbox: WorkerInbox<FromWorker> }[],
    readonly epoch: number,
    private readonly log: (line: string) => void,
  ) {}

  static async connect(options: {
    kind: ProviderKind;
    urls: string[];
    slug: string;
    tokens: string[];
    clients: number;
    probes: number;
    workers: number;
    log: (line: string) => void;
    syncTimeoutMs?: number;
  }): Promise<Crowd> {
    const syncTimeoutMs = options.syncTimeoutMs ?? 60_000;
    const seeder = connectStockClient({ kind: options.kind, url: options.urls[0]!, slug: options.slug, token: options.tokens[0]! });
    const threads: { worker: Worker; inbox: WorkerInbox<FromWorker> }[] = [];
    try {
      await Promise.race([
        seeder.synced,
        new Promise((_, reject) => setTimeout(() => reject(new Error(`peers: the seeder did not sync with ${options.urls[0]} within ${syncTimeoutMs} ms`)), syncTimeoutMs).unref()),
      ]);
      if (seeder.text.length === 0) seeder.text.insert(0, seatsText(options.clients));
      const epoch = Date.now();
      for (let w = 0; w < options.workers; w++) {
        const data: ClientWorkerData = {
          kind: options.kind,
          urls: options.urls,
          slug: options.slug,
          tokens: options.tokens,
          clients: Array.from({ length: options.clients }, (_, i) => i).filter((i) => i % options.workers === w),
          probes: Array.from({ length: options.probes }, (_, i) => options.clients + i).filter((i) => i % options.workers === w),
          epoch,
          syncTimeoutMs,
        };
        const worker = startTsWorker(new URL("./client-worker.ts", import.meta.url), data, `peers-clients-${w}`);
        threads.push({ worker, inbox: new WorkerInbox<FromWorker>(worker, `peers client thread ${w}`) });
      }
      await Promise.all(threads.map(({ inbox }) => inbox.next("ready")));
      options.log(`${options.clients} clients and ${options.probes} probes synced over ${options.workers} threads (${options.kind})`);
      return new Crowd(threads, epoch, options.log);
    } catch (error) {
      await Promise.all(threads.map(({ worker }) => worker.terminate()));
      throw error;
    } finally {
      seeder.destroy();
    }
  }

  private post(message: ToWorker): void {
    for (const { worker } of this.threads) worker.postMessage(message);
  }

  /** Runs the load; `onStart` learns when it begins (ms after the epoch), e.g. to schedule a crash. */
  async run(point: LoadPoint, onStart?: (startMs: number) => void): Promise<CrowdRun> {
    const startMs = Date.now() - this.epoch + 200;
    const perThread = point.ratePerSecond / this.threads.length;
    const progress = this.threads.map(() => 0);
    const unsubscribe = this.threads.map(({ inbox }, i) => inbox.onProgress((message) => (progress[i] = message.sent)));
    const ticker = setInterval(() => this.log(`  sent ${progress.reduce((a, b) => a + b, 0)} edits`), 5000);
    this.post({ type: "start", startAtMs: startMs, durationMs: point.durationMs, ratePerSecond: perThread });
    onStart?.(startMs);
    try {
      const results = await Promise.all(this.threads.map(({ inbox }) => inbox.next("sent")));
      const sent = new Map<string, number>();
      for (const result of results) for (const [id, at] of result.markers) sent.set(id, at);
      return { epoch: this.epoch, startMs, endMs: startMs + point.durationMs, sent };
    } finally {
      clearInterval(ticker);
      for (const stop of unsubscribe) stop();
    }
  }

  /** Waits until every probe saw every marker (or `timeoutMs`), then answers how delivery went. */
  async drain(sent: number, timeoutMs: number): Promise<Delivery> {
    this.post({ type: "drain", expected: sent, timeoutMs });
    const results = await Promise.all(this.threads.map(({ inbox }) => inbox.next("drained")));
    const latencies = results.flatMap((result) => result.latenciesMs);
    const seen = results.flatMap((result) => result.seenPerProbe);
    return { latencyMs: percentiles(latencies), delivered: seen.reduce((a, b) => a + b, 0), expected: sent * seen.length };
  }

  async close(): Promise<void> {
    this.post({ type: "close" });
    await Promise.all(this.threads.map(({ inbox }) => inbox.next("closed").catch(() => undefined)));
    await Promise.all(this.threads.map(({ worker }) => worker.terminate()));
  }
}
