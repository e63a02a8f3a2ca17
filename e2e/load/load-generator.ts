import type { Worker } from "node:worker_threads";
import { type AcksByDurability, addAcks } from "./ack-durability";
import {
  type EditRecords,
  type FromWorker,
  type LoadOptions,
  type LoadProgress,
  planWorkers,
  type ToWorker,
  type WorkerPlan,
  type WorkerSummary,
} from "./load-plan";
import { markerOf } from "./markers";
import { startTsWorker, WorkerInbox } from "./worker-thread";
import { percentileOf, percentiles, type Percentiles, Sample } from "./stats";

export type { EdgeTarget, LoadOptions, LoadProgress, RatePoint } from "./load-plan";

/**
 * A load generator of protocol-level editors (ProtocolEditor) in worker
 * threads, so that on a 2-core machine the generator is not what saturates
 * first: each worker drives its share of the editors, offers their edits on
 * an open-loop schedule (or a closed loop), and records every edit's send
 * and ack time. `npm run bench:edge` and the spike harness both drive it.
 *
 *   const load = await LoadGenerator.connect({ edges, tokens, pages, editors: 1000, rate: 5000, warmupSeconds: 3, seconds: 15 });
 *   const result = await load.run();
 *   await load.close();
 */
export class LoadGenerator {
  private constructor(
    private readonly options: LoadOptions,
    private readonly plans: WorkerPlan[],
    private readonly workers: Worker[],
    private readonly inbox: WorkerInbox<FromWorker>[],
    /** Editors connected and synced, and why the others are not. */
    readonly connected: number,
    readonly connectFailures: Record<string, number>,
  ) {}

  /** Starts the workers and connects every editor (each synced with its page) before anything is offered. */
  static async connect(options: LoadOptions): Promise<LoadGenerator> {
    const plans = planWorkers(options);
    const workers = plans.map(startWorker);
    const inbox = workers.map((worker) => new WorkerInbox<FromWorker>(worker, "load worker"));
    try {
      const ready = await Promise.all(inbox.map((box) => box.next("ready")));
      const failures: Record<string, number> = {};
      for (const message of ready) for (const [reason, count] of Object.entries(message.failures)) failures[reason] = (failures[reason] ?? 0) + count;
      return new LoadGenerator(options, plans, workers, inbox, ready.reduce((sum, message) => sum + message.connected, 0), failures);
    } catch (error) {
      await Promise.all(workers.map((worker) => worker.terminate()));
      throw error;
    }
  }

  /** Offers the load (warm-up, then the measured window), waits for the acks, and answers the figures. */
  async run(): Promise<LoadResult> {
    const { options } = this;
    const warmupMs = options.warmupSeconds * 1000;
    const measureMs = options.seconds * 1000;
    // A moment in the future that every worker starts at, whatever its message latency.
    const startAt = Date.now() + 250;
    const start: ToWorker = { type: "start", startAt, warmupMs, measureMs };
    for (const worker of this.workers) worker.postMessage(start);
    const stopProgress = this.reportProgress(startAt + warmupMs);
    try {
      const done = await Promise.all(this.inbox.map((box) => box.next("done")));
      return summarize(options, this.plans, { startAt, measureFrom: startAt + warmupMs, measureTo: startAt + warmupMs + measureMs }, done, {
        connected: this.connected,
        failures: this.connectFailures,
      });
    } finally {
      stopProgress();
    }
  }

  /**
   * Closes every editor's socket and stops the workers. Answers the markers
   * acknowledged after the drain ended (by page slug): they are not in the
   * run's figures, but an ack is an ack, and the loss check must cover them.
   * A second call answers nothing more.
   */
  async close(): Promise<Map<string, string[]>> {
    const lateAcked = new Map<string, string[]>();
    if (this.closed) return lateAcked;
    this.closed = true;
    const close: ToWorker = { type: "close" };
    for (const worker of this.workers) worker.postMessage(close);
    const answers = await Promise.all(
      this.inbox.map((box) => Promise.race([box.next("closed"), new Promise<undefined>((resolve) => setTimeout(resolve, 5000))]).catch(() => undefined)),
    );
    for (const answer of answers) {
      for (const [slug, markers] of answer?.lateAcked ?? []) lateAcked.set(slug, [...(lateAcked.get(slug) ?? []), ...markers]);
    }
    await Promise.all(this.workers.map((worker) => worker.terminate()));
    return lateAcked;
  }

  private closed = false;

  private reportProgress(measureFrom: number): () => void {
    const onProgress = this.options.onProgress;
    if (!onProgress) return () => {};
    // Workers report each second; merge one report of each into one line.
    const pending = new Map<number, Extract<FromWorker, { type: "progress" }>[]>();
    const unsubscribe = this.inbox.map((box, worker) =>
      box.onProgress((message) => {
        const reports = pending.get(message.seq) ?? [];
        reports[worker] = message;
        pending.set(message.seq, reports);
        if (reports.filter(Boolean).length < this.inbox.length) return;
        pending.delete(message.seq);
        const latencies = Float64Array.from(reports.flatMap((report) => report.latencies)).sort();
        const progress: LoadProgress = {
          // Each report covers the second before it was sent.
          atS: Math.round((message.at - measureFrom) / 1000) - 1,
          offered: sum(reports, (report) => report.offered),
          acked: sum(reports, (report) => report.acked),
          failed: sum(reports, (report) => report.failed),
          inFlight: sum(reports, (report) => report.inFlight),
          p50Ms: percentileOf(latencies, 50),
          p99Ms: percentileOf(latencies, 99),
          received: sum(reports, (report) => report.received),
        };
        onProgress(progress);
      }),
    );
    return () => unsubscribe.forEach((stop) => stop());
  }
}

/** Connects, runs once, closes. */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const load = await LoadGenerator.connect(options);
  try {
    return await load.run();
  } finally {
    await load.close();
  }
}

export interface TimelineSecond {
  /** Seconds since the end of the warm-up (negative during it). */
  atS: number;
  offered: number;
  sent: number;
  acked: number;
  /** Ack latency of the edits sent in that second. */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface LoadResult {
  mode: "open" | "closed";
  editors: number;
  connected: number;
  connectFailures: Record<string, number>;
  pages: number;
  workers: number;
  maxInFlight: number;
  warmupSeconds: number;
  seconds: number;
  window: { startAt: number; measureFrom: number; measureTo: number };
  /** Edits due in the measured window, those sent, those shed (editor at its cap or disconnected). */
  offered: number;
  sent: number;
  shed: number;
  /** Of the edits sent in the window: acknowledged, failed (socket closed first), unanswered at the end of the drain. */
  acked: number;
  failed: number;
  unanswered: number;
  offeredPerSec: number;
  /** Acknowledgements received during the window, per second. */
  ackedPerSec: number;
  /** From send to ack, edits sent in the window. */
  ackLatencyMs: Percentiles;
  /** How late the generator sent each edit against its schedule (open loop): its own lag. */
  sendLagMs: Percentiles;
  timeline: TimelineSecond[];
  /** Whole run, warm-up and drain included. */
  total: { offered: number; sent: number; acked: number; failed: number; unanswered: number };
  /** What the editors received from the edges: the fan-out of everyone's edits and presence. */
  received: { updates: number; awareness: number; bytes: number; updatesPerSec: number };
  closes: Record<string, number>;
  reconnects: number;
  /** Every ack by the durability it reported (PROTOCOL.md): a run checks them against the level under test. */
  acksByDurability: AcksByDurability;
  workerLoad: { worker: number; editors: number; cpuPercent: number; eventLoopUtilization: number }[];
  /** Per page: its editors, the edges they are connected to (ws URLs), its acknowledged edits. */
  perPage: { slug: string; editors: number; edges: string[]; acked: number }[];
  /** Acknowledged and unacknowledged-but-sent markers, by page slug, for a loss and duplicate check. */
  markers: { acked: Map<string, string[]>; unacked: Map<string, string[]> };
}

function summarize(
  options: LoadOptions,
  plans: WorkerPlan[],
  window: LoadResult["window"],
  done: Extract<FromWorker, { type: "done" }>[],
  connection: { connected: number; failures: Record<string, number> },
): LoadResult {
  const { startAt, measureFrom, measureTo } = window;
  const seconds = (measureTo - measureFrom) / 1000;
  const tag = options.markerTag ?? "";
  const inWindow = (t: number) => t >= measureFrom && t < measureTo;
  const timeline = new Map<number, { offered: number; sent: number; acked: number; latencies: number[] }>();
  const second = (t: number) => {
    const atS = Math.floor((t - measureFrom) / 1000);
    let bucket = timeline.get(atS);
    if (!bucket) timeline.set(atS, (bucket = { offered: 0, sent: 0, acked: 0, latencies: [] }));
    return bucket;
  };
  const latencies = new Sample();
  const lags = new Sample();
  const counts = { offered: 0, sent: 0, acked: 0, failed: 0, unanswered: 0, ackedInWindow: 0 };
  const total = { offered: 0, sent: 0, acked: 0, failed: 0, unanswered: 0 };
  const markers = { acked: new Map<string, string[]>(), unacked: new Map<string, string[]>() };
  const pageAcked = new Map<string, number>();
  const closes: Record<string, number> = {};
  const received = { updates: 0, awareness: 0, bytes: 0, updatesPerSec: 0 };
  let reconnects = 0;
  const acksByDurability: AcksByDurability = {};

  for (const { records, summary } of done) {
    const plan = plans[summary.worker]!;
    addSummary(summary, closes, received);
    reconnects += summary.reconnects;
    addAcks(acksByDurability, summary.acks);
    forEachRecord(records, (r) => {
      const slug = plan.pages[r.page]!;
      total.offered += 1;
      second(r.scheduledAt).offered += 1;
      const measured = inWindow(r.scheduledAt);
      if (measured) counts.offered += 1;
      if (Number.isNaN(r.sentAt)) return;
      total.sent += 1;
      const marker = markerOf({ worker: summary.worker, editor: r.editor, n: r.n }, tag);
      const sentBucket = second(r.sentAt);
      sentBucket.sent += 1;
      if (measured) {
        counts.sent += 1;
        lags.push(r.sentAt - r.scheduledAt);
      }
      if (Number.isNaN(r.ackedAt)) {
        push(markers.unacked, slug, marker);
        if (r.fate === 1) total.failed += 1;
        else total.unanswered += 1;
        if (inWindow(r.sentAt)) counts[r.fate === 1 ? "failed" : "unanswered"] += 1;
        return;
      }
      total.acked += 1;
      push(markers.acked, slug, marker);
      pageAcked.set(slug, (pageAcked.get(slug) ?? 0) + 1);
      second(r.ackedAt).acked += 1;
      const latency = r.ackedAt - r.sentAt;
      sentBucket.latencies.push(latency);
      if (inWindow(r.ackedAt)) counts.ackedInWindow += 1;
      if (inWindow(r.sentAt)) {
        counts.acked += 1;
        latencies.push(latency);
      }
    });
  }
  received.updatesPerSec = Math.round(received.updates / ((measureTo - startAt) / 1000));

  const editorsPerPage = new Map<string, number>();
  const edgesPerPage = new Map<string, Set<string>>();
  for (const plan of plans) {
    for (const editor of plan.editors) {
      const slug = plan.pages[editor.page]!;
      editorsPerPage.set(slug, (editorsPerPage.get(slug) ?? 0) + 1);
      edgesPerPage.set(slug, (edgesPerPage.get(slug) ?? new Set()).add(editor.url));
    }
  }
  const round = (value: number) => Math.round(value * 1000) / 1000;
  return {
    mode: options.mode ?? "open",
    editors: options.editors,
    connected: connection.connected,
    connectFailures: connection.failures,
    pages: options.pages.length,
    workers: plans.length,
    maxInFlight: plans[0]!.maxInFlight,
    warmupSeconds: options.warmupSeconds,
    seconds,
    window,
    offered: counts.offered,
    sent: counts.sent,
    shed: counts.offered - counts.sent,
    acked: counts.acked,
    failed: counts.failed,
    unanswered: counts.unanswered,
    offeredPerSec: Math.round(counts.offered / seconds),
    ackedPerSec: Math.round(counts.ackedInWindow / seconds),
    ackLatencyMs: percentiles(latencies.toArray()),
    sendLagMs: percentiles(lags.toArray()),
    timeline: [...timeline.entries()]
      .sort(([a], [b]) => a - b)
      .map(([atS, bucket]) => {
        const sorted = Float64Array.from(bucket.latencies).sort();
        return {
          atS,
          offered: bucket.offered,
          sent: bucket.sent,
          acked: bucket.acked,
          p50Ms: round(percentileOf(sorted, 50)),
          p99Ms: round(percentileOf(sorted, 99)),
          maxMs: round(sorted.length ? sorted[sorted.length - 1]! : Number.NaN),
        };
      }),
    total,
    received,
    closes,
    reconnects,
    acksByDurability,
    workerLoad: done.map(({ summary }) => ({
      worker: summary.worker,
      editors: summary.editors,
      cpuPercent: Math.round((summary.cpuSeconds / seconds) * 100),
      eventLoopUtilization: round(summary.eventLoopUtilization),
    })),
    perPage: options.pages.map((slug) => ({
      slug,
      editors: editorsPerPage.get(slug) ?? 0,
      edges: [...(edgesPerPage.get(slug) ?? [])].sort(),
      acked: pageAcked.get(slug) ?? 0,
    })),
    markers,
  };
}

/** The result without its marker lists (which a JSON report need not carry). */
export function withoutMarkers(result: LoadResult): Omit<LoadResult, "markers"> {
  const { markers: _markers, ...rest } = result;
  return rest;
}

function addSummary(summary: WorkerSummary, closes: Record<string, number>, received: LoadResult["received"]): void {
  for (const [reason, count] of Object.entries(summary.closes)) closes[reason] = (closes[reason] ?? 0) + count;
  received.updates += summary.received.updates;
  received.awareness += summary.received.awareness;
  received.bytes += summary.received.bytes;
}

interface EditRecord {
  editor: number;
  n: number;
  page: number;
  scheduledAt: number;
  sentAt: number;
  ackedAt: number;
  fate: number;
}

function forEachRecord(records: EditRecords, visit: (record: EditRecord) => void): void {
  const record: EditRecord = { editor: 0, n: 0, page: 0, scheduledAt: 0, sentAt: 0, ackedAt: 0, fate: 0 };
  for (let i = 0; i < records.n.length; i++) {
    record.editor = records.editor[i]!;
    record.n = records.n[i]!;
    record.page = records.page[i]!;
    record.scheduledAt = records.scheduledAt[i]!;
    record.sentAt = records.sentAt[i]!;
    record.ackedAt = records.ackedAt[i]!;
    record.fate = records.fate[i]!;
    visit(record);
  }
}

function push(map: Map<string, string[]>, key: string, value: string): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function sum<T>(items: (T | undefined)[], value: (item: T) => number): number {
  return items.reduce((total, item) => total + (item ? value(item) : 0), 0);
}

const WORKER_URL = new URL("./load-worker.ts", import.meta.url);

function startWorker(plan: WorkerPlan): Worker {
  return startTsWorker(WORKER_URL, plan, `load-worker-${plan.worker}`);
}
