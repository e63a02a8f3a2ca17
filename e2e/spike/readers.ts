import { type Percentiles, percentiles } from "../load/stats";
import { startTsWorker, WorkerInbox } from "../load/worker-thread";
import type { ReaderSecond, ReaderShareOptions, ReaderShareResult } from "./reader-share";

/**
 * Readers: protocol-free HTTP clients loading the hot pages' views, as
 * anonymous browsers do (GET /wiki/<slug>, Accept-Encoding: gzip, no
 * cookie, no If-None-Match: a fresh visitor). Open loop at a stated rate of
 * views per second, spread round-robin over the pages and over `threads`
 * worker threads (one Node thread cannot offer 10,000 views/s beside
 * everything else on the machine), each with its share of `connections`
 * keep-alive sockets. How a view is timed, queued and skipped:
 * reader-share.ts.
 */

export interface ReadersOptions {
  /** Full URLs of the views to load, in turn. */
  urls: readonly string[];
  viewsPerSec: number;
  seconds: number;
  /** Keep-alive connections over all threads. */
  connections: number;
  /** Worker threads the offer is spread over (2: this machine's cores). */
  threads?: number;
  /** A view not sent within this long after falling due is skipped (counted). */
  maxQueueMs?: number;
  timeoutMs?: number;
}

export interface ReadersResult {
  threads: number;
  offered: number;
  answered: number;
  skipped: number;
  /** Views that failed: a socket error, a timeout, or a status other than 200/304. */
  failed: number;
  failures: Record<string, number>;
  /** Answered views by the cache's X-Cache-Status (`none` when nothing in front answered one). */
  cacheStatuses: Record<string, number>;
  /** Of the answered views, from the time each fell due (not when it was sent) to the body's last byte. */
  latencyMs: Percentiles;
  /**
   * The 99th percentile over every offered view, a skipped or failed one
   * counting as slower than any answered: null when more than 1% were not
   * answered (then the p99 reader got no page at all).
   */
  p99OfOfferedMs: number | null;
  /** Seconds from the first view falling due to the last answer or failure. */
  wallS: number;
  /** Answered views over wallS. */
  answeredPerSec: number;
  /** Per second of the offer (by when views fell due): offered, answered, skipped, failed. */
  timeline: ReaderSecond[];
  /** The readers' threads' own CPU, in percent of one core over wallS (all threads together). */
  cpuPercent: number;
  /** Bytes of bodies as sent (gzipped) per answered view. */
  bytesPerView: number;
}

type ThreadMessage = { type: "ready" } | { type: "result"; result: ReaderShareResult } | { type: "error"; message: string };

/** A thread of the readers, loaded and waiting for its start time (loading one takes seconds on a busy machine). */
async function startThread(options: Omit<ReaderShareOptions, "startAt">): Promise<{ run(startAt: number): Promise<ReaderShareResult>; stop(): Promise<void> }> {
  const worker = startTsWorker(new URL("./reader-thread.ts", import.meta.url), options, `readers-${options.thread}`);
  const inbox = new WorkerInbox<ThreadMessage>(worker, `readers: thread ${options.thread}`);
  try {
    await inbox.next("ready");
  } catch (error) {
    await worker.terminate();
    throw error;
  }
  return {
    async run(startAt) {
      worker.postMessage({ type: "start", startAt });
      const message = await Promise.race([inbox.next("result"), inbox.next("error")]);
      if (message.type === "error") throw new Error(`readers: thread ${options.thread} failed: ${message.message}`);
      return message.result;
    },
    stop: async () => void (await worker.terminate()),
  };
}

const count = (into: Record<string, number>, from: Record<string, number>) => {
  for (const [key, n] of Object.entries(from)) into[key] = (into[key] ?? 0) + n;
};

export async function runReaders(options: ReadersOptions): Promise<ReadersResult> {
  if (options.urls.length === 0) throw new Error("readers: no views to load");
  const threads = Math.max(1, Math.min(options.threads ?? 2, options.connections));
  const started = await Promise.allSettled(
    Array.from({ length: threads }, (_, thread) =>
      startThread({
        urls: options.urls,
        viewsPerSec: options.viewsPerSec,
        seconds: options.seconds,
        connections: Math.ceil(options.connections / threads),
        maxQueueMs: options.maxQueueMs ?? 1000,
        timeoutMs: options.timeoutMs ?? 10_000,
        thread,
        threads,
      }),
    ),
  );
  const running = started.flatMap((outcome) => (outcome.status === "fulfilled" ? [outcome.value] : []));
  // Every thread loaded, the offer starts for all at once: a view falls due only when a thread is there to send it.
  const startAt = Date.now() + 50;
  let shares: ReaderShareResult[];
  try {
    const failed = started.find((outcome) => outcome.status === "rejected");
    if (failed) throw failed.reason;
    shares = await Promise.all(running.map((thread) => thread.run(startAt)));
  } finally {
    await Promise.all(running.map((thread) => thread.stop()));
  }
  const failures: Record<string, number> = {};
  const cacheStatuses: Record<string, number> = {};
  for (const share of shares) {
    count(failures, share.failures);
    count(cacheStatuses, share.cacheStatuses);
  }
  const latencies = shares.flatMap((share) => share.latenciesMs);
  const offered = shares.reduce((sum, share) => sum + share.offered, 0);
  const skipped = shares.reduce((sum, share) => sum + share.skipped, 0);
  const failed = Object.values(failures).reduce((sum, n) => sum + n, 0);
  const answered = latencies.length;
  // Over the whole run, the drain of the last answers included: an overloaded server answers long after the offer ends.
  const wallS = Math.max(0.001, (Math.max(...shares.map((share) => share.endAt)) - startAt) / 1000);
  const timeline = shares[0]!.timeline.map((_, second) => {
    const sum = (field: keyof ReaderSecond) => shares.reduce((total, share) => total + share.timeline[second]![field], 0);
    return { offered: sum("offered"), answered: sum("answered"), skipped: sum("skipped"), failed: sum("failed") };
  });
  latencies.sort((a, b) => a - b);
  const p99Rank = Math.ceil(0.99 * offered) - 1;
  return {
    threads,
    offered,
    answered,
    skipped,
    failed,
    failures,
    cacheStatuses,
    latencyMs: percentiles(latencies),
    p99OfOfferedMs: p99Rank < answered ? Math.round(latencies[p99Rank]! * 1000) / 1000 : null,
    wallS: Math.round(wallS * 10) / 10,
    answeredPerSec: Math.round(answered / wallS),
    timeline,
    cpuPercent: Math.round((shares.reduce((sum, share) => sum + share.cpuSeconds, 0) / wallS) * 100),
    bytesPerView: answered ? Math.round(shares.reduce((sum, share) => sum + share.bytes, 0) / answered) : 0,
  };
}
