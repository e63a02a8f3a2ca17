import { Agent, get } from "node:http";
import { type Percentiles, percentiles, Sample } from "../load/stats";

/**
 * Readers: protocol-free HTTP clients loading the hot pages' views, as
 * anonymous browsers do (GET /wiki/<slug>, Accept-Encoding: gzip, no
 * cookie, no If-None-Match: a fresh visitor). Open loop at a stated rate of
 * views per second, spread round-robin over the pages, on `connections`
 * keep-alive sockets. A view due while `maxInFlight` are still unanswered
 * is skipped and counted, so an overloaded server shows as offered >
 * answered instead of slowing the offer down.
 */

export interface ReadersOptions {
  /** Full URLs of the views to load, in turn. */
  urls: readonly string[];
  viewsPerSec: number;
  seconds: number;
  connections: number;
  maxInFlight: number;
  timeoutMs?: number;
}

export interface ReadersResult {
  offered: number;
  answered: number;
  skipped: number;
  /** Views that failed: a socket error, a timeout, or a status other than 200/304. */
  failed: number;
  failures: Record<string, number>;
  /** Answered views by the cache's X-Cache-Status (`none` when nothing in front answered one). */
  cacheStatuses: Record<string, number>;
  /** From sending the request to the last byte of the body. */
  latencyMs: Percentiles;
  /** Seconds from the first view offered to the last answer or failure. */
  wallS: number;
  /** Answered views over wallS. */
  answeredPerSec: number;
  /** Bytes of bodies as sent (gzipped) per answered view. */
  bytesPerView: number;
}

interface Outcome {
  status: number;
  cache: string;
  bytes: number;
}

function load(url: string, agent: Agent, timeoutMs: number): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const request = get(url, { agent, headers: { "accept-encoding": "gzip", accept: "text/html" }, timeout: timeoutMs }, (response) => {
      let bytes = 0;
      response.on("data", (chunk: Buffer) => (bytes += chunk.length));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, cache: String(response.headers["x-cache-status"] ?? "none"), bytes }));
      response.on("error", reject);
    });
    request.on("timeout", () => request.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    request.on("error", reject);
  });
}

const count = (record: Record<string, number>, key: string) => (record[key] = (record[key] ?? 0) + 1);

export async function runReaders(options: ReadersOptions): Promise<ReadersResult> {
  if (options.urls.length === 0) throw new Error("readers: no views to load");
  const agent = new Agent({ keepAlive: true, maxSockets: options.connections });
  const timeoutMs = options.timeoutMs ?? 10_000;
  const latencies = new Sample();
  const failures: Record<string, number> = {};
  const cacheStatuses: Record<string, number> = {};
  let offered = 0;
  let skipped = 0;
  let inFlight = 0;
  let bytes = 0;
  const pending = new Set<Promise<void>>();
  const startedAt = performance.now();
  const totalViews = Math.round(options.viewsPerSec * options.seconds);

  const send = (url: string) => {
    inFlight++;
    const sentAt = performance.now();
    const done = load(url, agent, timeoutMs)
      .then((outcome) => {
        if (outcome.status !== 200 && outcome.status !== 304) {
          count(failures, `HTTP ${outcome.status}`);
          return;
        }
        latencies.push(performance.now() - sentAt);
        count(cacheStatuses, outcome.cache);
        bytes += outcome.bytes;
      })
      .catch((error: unknown) => void count(failures, (error as Error).message.replace(/\d+ ms/u, "N ms")))
      .finally(() => {
        inFlight--;
        pending.delete(done);
      });
    pending.add(done);
  };

  // A tick every 5 ms sends what fell due since the last: the offer keeps to the rate even when a tick is late.
  while (offered < totalViews) {
    const due = Math.min(totalViews, Math.floor(((performance.now() - startedAt) / 1000) * options.viewsPerSec));
    while (offered < due) {
      const url = options.urls[offered % options.urls.length]!;
      offered++;
      if (inFlight >= options.maxInFlight) skipped++;
      else send(url);
    }
    if (offered < totalViews) await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await Promise.all(pending);
  // Over the whole run, the drain of the last answers included: an overloaded server answers long after the offer ends.
  const wallS = (performance.now() - startedAt) / 1000;
  agent.destroy();
  const answered = latencies.length;
  const failed = Object.values(failures).reduce((sum, n) => sum + n, 0);
  return {
    offered,
    answered,
    skipped,
    failed,
    failures,
    cacheStatuses,
    latencyMs: percentiles(latencies.toArray()),
    wallS: Math.round(wallS * 10) / 10,
    answeredPerSec: Math.round(answered / wallS),
    bytesPerView: answered ? Math.round(bytes / answered) : 0,
  };
}
