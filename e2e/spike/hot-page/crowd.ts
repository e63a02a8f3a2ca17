import type { Worker } from "node:worker_threads";
import { startTsWorker, WorkerInbox } from "../../load/worker-thread";
import type { EdgeTarget } from "../../load/load-plan";
import { percentiles, type Percentiles } from "../../load/stats";
import { seededShuffle } from "../../load/zipf";
import { writeSeats } from "./seats";
import type { CrowdClientPlan, CrowdWorkerPlan, CrowdWorkerResult, FromCrowdWorker, ToCrowdWorker } from "./crowd-plan";

export interface CrowdOptions {
  edges: readonly (EdgeTarget & { replica: string })[];
  slug: string;
  /** Tokens handed out round-robin (editors and followers alike). */
  tokens: readonly string[];
  editors: number;
  followers: number;
  /** How many receivers decode everything to time delivery (spread over roles, PoPs and replicas). */
  probes: number;
  editsPerSecond: number;
  cursorMovesPerSecond: number;
  seconds: number;
  warmupSeconds: number;
  workers: number;
  tag: string;
  onProgress?: (line: { atS: number; sent: number; acked: number; delivered: number; deliveryP99: number }) => void;
}

export interface CrowdResult {
  editors: number;
  followers: number;
  connected: number;
  connectFailures: Record<string, number>;
  /** Closes by the edge, by code and reason; reconnects after them; receivers still open at the check. */
  closes: Record<string, number>;
  reconnects: number;
  openAtCheck: number;
  sent: number;
  acked: number;
  ackLatencyMs: Percentiles;
  deliveryMs: Percentiles;
  awarenessMs: Percentiles;
  /** Acknowledged edits that some receiver (every one that ever synced, open or closed) never got, counted per receiver; how many receivers lacked something. */
  undelivered: number;
  receiversMissing: number;
  receiversChecked: number;
  undeliveredExamples: string[];
  bytesPerClientPerSec: number;
  messagesPerClientPerSec: number;
  updateMessagesPerClientPerSec: number;
  awarenessMessagesPerClientPerSec: number;
  probes: number;
  /** The generator's own load: if its threads were saturated, the latencies include its queueing. */
  generator: { cpuPercent: number; eventLoopUtilization: number }[];
}

const WORKER_URL = new URL("./crowd-worker.ts", import.meta.url);

function startWorker(plan: CrowdWorkerPlan): Worker {
  return startTsWorker(WORKER_URL, plan, `crowd-worker-${plan.worker}`);
}

function plan(options: CrowdOptions): CrowdWorkerPlan[] {
  const total = options.editors + options.followers;
  const plans: CrowdWorkerPlan[] = Array.from({ length: options.workers }, (_, worker) => ({
    worker,
    slug: options.slug,
    clients: [],
    editsPerSecond: options.editsPerSecond,
    cursorMovesPerSecond: options.cursorMovesPerSecond,
    tag: options.tag,
    connectTimeoutMs: 60_000,
    seed: 11 + worker,
  }));
  const probes = probeIndexes(total, options.probes);
  for (let index = 0; index < total; index++) {
    const edge = options.edges[index % options.edges.length]!;
    const client: CrowdClientPlan = {
      index,
      role: index < options.editors ? "editor" : "follower",
      url: edge.url,
      alternates: options.edges.filter((other) => other.pop === edge.pop && other.url !== edge.url).map((other) => other.url),
      pop: edge.pop,
      token: options.tokens[index % options.tokens.length]!,
      probe: probes.has(index),
    };
    plans[index % plans.length]!.clients.push(client);
  }
  return plans;
}

/**
 * Which clients are probes: a seeded random sample. Every `total / count`-th
 * client would put them all on a few replicas and one worker whenever that
 * stride shares a factor with the number of edges or workers.
 */
function probeIndexes(total: number, count: number): Set<number> {
  return new Set(seededShuffle(Array.from({ length: total }, (_, i) => i), 7).slice(0, count));
}

/** One point of the hot-page curve: connects the crowd to one page, runs it, checks delivery, closes. */
export async function runCrowd(options: CrowdOptions): Promise<CrowdResult> {
  if (options.editors > 0) await writeSeats(options.edges, options.slug, options.tokens[0]!, options.editors);
  const plans = plan(options);
  const workers = plans.map(startWorker);
  const inbox = workers.map((worker) => new WorkerInbox<FromCrowdWorker>(worker, "crowd worker"));
  try {
    const ready = await Promise.all(inbox.map((box) => box.next("ready")));
    const connected = ready.reduce((sum, message) => sum + message.connected, 0);
    const connectFailures: Record<string, number> = {};
    for (const message of ready) for (const [reason, count] of Object.entries(message.failures)) connectFailures[reason] = (connectFailures[reason] ?? 0) + count;

    const startAt = Date.now() + 200;
    const measureFrom = startAt + options.warmupSeconds * 1000;
    const measureTo = measureFrom + options.seconds * 1000;
    for (const worker of workers) worker.postMessage({ type: "start", measureFrom, measureTo } satisfies ToCrowdWorker);
    const stopProgress = progressOf(inbox, measureFrom, options.onProgress);
    await new Promise((resolve) => setTimeout(resolve, measureTo - Date.now()));
    stopProgress();
    for (const worker of workers) worker.postMessage({ type: "stop" } satisfies ToCrowdWorker);
    const results = (await Promise.all(inbox.map((box) => box.next("stopped")))).map((message) => message.result);

    // Acknowledged edits by author, as the receivers' check wants them.
    const acked = new Map<number, number[]>();
    const ackLatencies: number[] = [];
    let sent = 0;
    for (const result of results) {
      const { client, clock, sentAt, ackedAt } = result.edits;
      for (let i = 0; i < client.length; i++) {
        sent += 1;
        if (Number.isNaN(ackedAt[i]!)) continue;
        acked.set(client[i]!, [...(acked.get(client[i]!) ?? []), clock[i]!]);
        if (sentAt[i]! >= measureFrom && sentAt[i]! < measureTo) ackLatencies.push(ackedAt[i]! - sentAt[i]!);
      }
    }
    // An overloaded edge may still be catching its clients up, or closing
    // those too far behind (4408 after EDGE_CLIENT_BEHIND_MS, 20 s: their
    // close frame arrives only after what they had not read), and those
    // then reconnect and resync. Every receiver that ever synced is
    // checked, open or closed: a closed one that did not come back lacks
    // what it missed. An edit is undelivered once the count has not gone
    // down for longer than the behind bound (or after 120 s in all), not
    // merely late.
    let checked: Extract<FromCrowdWorker, { type: "checked" }>[] = [];
    const deadline = Date.now() + 120_000;
    let fewest = Number.POSITIVE_INFINITY;
    let progressAt = Date.now();
    for (;;) {
      for (const worker of workers) worker.postMessage({ type: "check", acked: [...acked] } satisfies ToCrowdWorker);
      checked = await Promise.all(inbox.map((box) => box.next("checked")));
      const undelivered = checked.reduce((sum, c) => sum + c.undelivered, 0);
      if (undelivered === 0 || Date.now() > deadline) break;
      if (undelivered < fewest) {
        fewest = undelivered;
        progressAt = Date.now();
      } else if (Date.now() - progressAt > 25_000) break;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }

    const receivers = results.reduce((sum, result) => sum + result.clients, 0);
    const perClientPerSec = (value: number) => Math.round((value / Math.max(1, receivers) / options.seconds) * 10) / 10;
    const sumOf = (pick: (result: CrowdWorkerResult) => number) => results.reduce((sum, result) => sum + pick(result), 0);
    const closes: Record<string, number> = {};
    for (const check of checked) for (const [reason, count] of Object.entries(check.closes)) closes[reason] = (closes[reason] ?? 0) + count;
    return {
      editors: options.editors,
      followers: options.followers,
      connected,
      connectFailures,
      closes,
      reconnects: checked.reduce((sum, c) => sum + c.reconnects, 0),
      openAtCheck: checked.reduce((sum, c) => sum + c.open, 0),
      sent,
      acked: [...acked.values()].reduce((sum, list) => sum + list.length, 0),
      ackLatencyMs: percentiles(ackLatencies),
      deliveryMs: percentiles(results.flatMap((result) => result.delivery)),
      awarenessMs: percentiles(results.flatMap((result) => result.awareness)),
      undelivered: checked.reduce((sum, c) => sum + c.undelivered, 0),
      receiversMissing: checked.reduce((sum, c) => sum + c.receiversMissing, 0),
      receiversChecked: checked.reduce((sum, c) => sum + c.receiversChecked, 0),
      undeliveredExamples: checked.flatMap((c) => c.examples).slice(0, 10),
      bytesPerClientPerSec: perClientPerSec(sumOf((r) => r.received.bytes)),
      messagesPerClientPerSec: perClientPerSec(sumOf((r) => r.received.messages)),
      updateMessagesPerClientPerSec: perClientPerSec(sumOf((r) => r.received.updateMessages)),
      awarenessMessagesPerClientPerSec: perClientPerSec(sumOf((r) => r.received.awarenessMessages)),
      probes: sumOf((r) => r.probes),
      generator: results.map((result) => ({
        cpuPercent: Math.round((result.cpuSeconds / options.seconds) * 100),
        eventLoopUtilization: Math.round(result.eventLoopUtilization * 100) / 100,
      })),
    };
  } finally {
    for (const worker of workers) worker.postMessage({ type: "close" } satisfies ToCrowdWorker);
    await Promise.all(inbox.map((box) => Promise.race([box.next("closed"), new Promise((resolve) => setTimeout(resolve, 5000))]).catch(() => {})));
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}

function progressOf(inbox: WorkerInbox<FromCrowdWorker>[], measureFrom: number, onProgress: CrowdOptions["onProgress"]): () => void {
  if (!onProgress) return () => {};
  let totals = { sent: 0, acked: 0, delivered: 0, p99: 0, reports: 0 };
  const stops = inbox.map((box) =>
    box.onProgress((message) => {
      totals.sent += message.sent;
      totals.acked += message.acked;
      totals.delivered += message.delivered;
      totals.p99 = Math.max(totals.p99, Number.isNaN(message.deliveryP99) ? 0 : message.deliveryP99);
      if (++totals.reports < inbox.length) return;
      onProgress({ atS: Math.round((message.at - measureFrom) / 1000), sent: totals.sent, acked: totals.acked, delivered: totals.delivered, deliveryP99: totals.p99 });
      totals = { sent: 0, acked: 0, delivered: 0, p99: 0, reports: 0 };
    }),
  );
  return () => stops.forEach((stop) => stop());
}
