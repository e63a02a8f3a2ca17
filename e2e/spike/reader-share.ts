import { threadCpuSeconds } from "../load/thread-cpu";
import { Http1Connection } from "./http1-connection";

/**
 * One thread's share of the readers (readers.ts): of the views offered at
 * `viewsPerSec` in all, view i falls due at `startAt + i / viewsPerSec` and
 * belongs to thread `i % threads`. Each view is timed from when it fell
 * due, not from when a connection took it, so a reader that falls behind
 * (a busy server, a late event loop, too few connections) shows it in the
 * latency instead of quietly offering less: no coordinated omission. A
 * view that found no free connection within `maxQueueMs` of falling due is
 * given up and counted as skipped, so that an overloaded server shows as
 * offered > answered rather than as an ever-growing queue.
 */

export interface ReaderShareOptions {
  urls: readonly string[];
  /** All threads' views per second together. */
  viewsPerSec: number;
  seconds: number;
  /** Keep-alive connections of this thread; one request on each at a time. */
  connections: number;
  maxQueueMs: number;
  timeoutMs: number;
  /** Epoch ms at which view 0 falls due, the same for every thread. */
  startAt: number;
  thread: number;
  threads: number;
}

/** A second of the offer, counted by when its views fell due. */
export interface ReaderSecond {
  offered: number;
  answered: number;
  skipped: number;
  failed: number;
}

export interface ReaderShareResult {
  offered: number;
  skipped: number;
  failures: Record<string, number>;
  cacheStatuses: Record<string, number>;
  /** Of the answered views, from falling due to the body's last byte. */
  latenciesMs: number[];
  bytes: number;
  /** Epoch ms of the last answer or failure. */
  endAt: number;
  timeline: ReaderSecond[];
  /** CPU seconds of this thread over its share (NaN off Linux). */
  cpuSeconds: number;
}

const count = (record: Record<string, number>, key: string) => (record[key] = (record[key] ?? 0) + 1);
const now = () => performance.timeOrigin + performance.now();

export async function runReaderShare(options: ReaderShareOptions): Promise<ReaderShareResult> {
  const { urls, viewsPerSec, seconds, threads, thread, startAt } = options;
  if (urls.length === 0) throw new Error("readers: no views to load");
  const parsed = urls.map((url) => new URL(url));
  const { hostname, port } = parsed[0]!;
  if (parsed.some((url) => url.hostname !== hostname || url.port !== port || url.protocol !== "http:")) throw new Error(`readers: every view must be http:// on one host, got ${urls.join(", ")}`);
  const paths = parsed.map((url) => url.pathname + url.search);
  const idle = Array.from({ length: options.connections }, () => new Http1Connection(hostname, Number(port || 80), options.timeoutMs));
  const cpuFrom = threadCpuSeconds();
  const totalViews = Math.round(viewsPerSec * seconds);
  const timeline: ReaderSecond[] = Array.from({ length: Math.ceil(seconds) }, () => ({ offered: 0, answered: 0, skipped: 0, failed: 0 }));
  const secondOf = (dueAt: number) => timeline[Math.min(timeline.length - 1, Math.max(0, Math.floor((dueAt - startAt) / 1000)))]!;
  const result: ReaderShareResult = { offered: 0, skipped: 0, failures: {}, cacheStatuses: {}, latenciesMs: [], bytes: 0, endAt: startAt, timeline, cpuSeconds: 0 };
  // Views due and not yet sent, oldest first: index into the whole offer.
  const queue: number[] = [];
  let head = 0;
  let next = thread; // this thread's next view not yet due
  const dueAt = (view: number) => startAt + (view * 1000) / viewsPerSec;

  const send = (view: number) => {
    const connection = idle.pop()!;
    const due = dueAt(view);
    const second = secondOf(due);
    connection
      .get(paths[view % paths.length]!, { "Accept-Encoding": "gzip", Accept: "text/html" })
      .then((outcome) => {
        if (outcome.status !== 200 && outcome.status !== 304) {
          count(result.failures, `HTTP ${outcome.status}`);
          second.failed++;
          return;
        }
        result.latenciesMs.push(now() - due);
        count(result.cacheStatuses, outcome.cache);
        result.bytes += outcome.bytes;
        second.answered++;
      })
      .catch((error: unknown) => {
        count(result.failures, (error as Error).message.replace(/\d+ ms/u, "N ms"));
        second.failed++;
      })
      .finally(() => {
        idle.push(connection);
        result.endAt = now();
        // A view already waiting takes the connection at once, not at the next tick.
        pump();
      });
  };

  // Sends what is due on free connections, gives up what waited too long.
  const pump = () => {
    const at = now();
    while (next < totalViews && dueAt(next) <= at) {
      queue.push(next);
      secondOf(dueAt(next)).offered++;
      result.offered++;
      next += threads;
    }
    while (head < queue.length && at - dueAt(queue[head]!) > options.maxQueueMs) {
      secondOf(dueAt(queue[head]!)).skipped++;
      result.skipped++;
      head++;
    }
    while (idle.length > 0 && head < queue.length) send(queue[head++]!);
    if (head > 4096) {
      queue.splice(0, head);
      head = 0;
    }
  };

  while (next < totalViews || head < queue.length || idle.length < options.connections) {
    pump();
    // Until the next view falls due, at most 5 ms: a view queued must be given up on time.
    const untilDue = next < totalViews ? dueAt(next) - now() : 5;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.min(5, untilDue))));
  }
  for (const connection of idle) connection.close();
  result.cpuSeconds = threadCpuSeconds() - cpuFrom;
  return result;
}
