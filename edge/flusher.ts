import { randomUUID } from "node:crypto";
import * as Y from "yjs";
import type { Logger } from "../common/logger";
import type { Membership } from "./membership";
import type { EdgeMetrics } from "./metrics";
import { type OriginClient, OriginRefusedError } from "./origin-client";
import type { Page } from "./page";
import { type FlushAnswerPage, type FlushPage, fromBase64, toBase64 } from "./protocol/flush";

export interface FlusherOptions {
  pop: string;
  replica: string;
  flushMs: number;
  origin: OriginClient;
  membership: Membership;
  pages: () => Iterable<Page>;
  /** Applies what the origin says this PoP lacks, and tells the peers. */
  applyFromOrigin: (page: Page, missing: Uint8Array) => void;
  /** Tells the PoP's other replicas that the origin now has `stateVector`. */
  announceFlushed: (page: Page, stateVector: Uint8Array, revision: number) => void;
  /** At `pop` durability: the origin committed this page's log up to `sequence`. */
  onCommitted?: (page: Page, sequence: bigint) => void;
  metrics: EdgeMetrics;
  log: Logger;
}

/** What a batch took from a page, to settle the page when the origin answers. */
interface Taken {
  page: Page;
  generation: number;
  edits: number;
  bytes: number;
  logSequence: bigint;
}

// Retries stay close to the flush interval: one request per flusher per
// interval is already a bounded load for a recovering origin, and the edges
// must be flushed within two intervals of its return.

/**
 * Sends, every flush interval, one batch holding every dirty page this
 * replica owns (rendezvous hashing over the PoP's live members), and applies
 * the origin's answer. The origin sees at most one transaction per flushing
 * replica per interval, however many edits were made. When the origin is
 * down, pages stay dirty (and are never evicted) and the flusher backs off.
 */
export class Flusher {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private failures = 0;
  private nextAttemptAt = 0;
  lastSuccessAt = 0;

  constructor(private readonly options: FlusherOptions) {}

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.options.flushMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async tick(): Promise<void> {
    if (this.running || Date.now() < this.nextAttemptAt) return;
    await this.flush("owned").catch(() => {});
  }

  /**
   * One flush now. "owned" sends the dirty pages this replica owns; "all"
   * sends every dirty page it holds (on shutdown, when it may be the last to
   * hold them). Rejects when the origin could not take the batch.
   */
  async flush(which: "owned" | "all"): Promise<void> {
    while (this.running) await this.running.catch(() => {});
    const run = this.send(which);
    this.running = run;
    try {
      await run;
    } finally {
      this.running = undefined;
    }
  }

  private async send(which: "owned" | "all"): Promise<void> {
    const { origin, membership, metrics, log } = this.options;
    const taken: Taken[] = [];
    const batchPages: FlushPage[] = [];
    // A page dirty for two intervals that its flusher did not take (the
    // flusher may not hold it, or just died) is flushed here: a duplicate
    // flush is harmless, a missing one is not.
    const orphanedBefore = Date.now() - 2 * this.options.flushMs;
    for (const page of this.options.pages()) {
      if (!page.dirty) continue;
      if (which === "owned" && !membership.owns(page.slug) && page.dirtySince > orphanedBefore) continue;
      const update = page.pendingUpdate();
      taken.push({ page, generation: page.dirtyGeneration, edits: page.unflushedEdits, bytes: page.unflushedBytes, logSequence: page.logSequence });
      batchPages.push({
        slug: page.slug,
        update: toBase64(update),
        stateVector: toBase64(Y.encodeStateVector(page.doc)),
        editCount: page.unflushedEdits,
        authors: [...page.unflushedAuthors].slice(0, 10_000),
        ...(page.logSequence > 0n ? { logSequence: page.logSequence.toString() } : {}),
      });
    }
    if (batchPages.length === 0) return;
    const batch = { batchId: `${this.options.replica}-${randomUUID()}`, pop: this.options.pop, edge: this.options.replica, pages: batchPages };
    const bytes = batchPages.reduce((sum, page) => sum + page.update.length, 0);
    const started = performance.now();
    try {
      const answer = await origin.flush(batch);
      metrics.flushBatches.inc();
      metrics.flushPages.inc(batchPages.length);
      metrics.flushBytes.inc(bytes);
      metrics.flushSeconds.observe((performance.now() - started) / 1000);
      const answers = new Map(answer.pages.map((page) => [page.slug, page]));
      for (const item of taken) {
        const pageAnswer = answers.get(item.page.slug);
        if (pageAnswer) this.settle(item, pageAnswer);
      }
      this.failures = 0;
      this.nextAttemptAt = 0;
      this.lastSuccessAt = Date.now();
      metrics.lastFlushTimestamp.set(this.lastSuccessAt / 1000);
    } catch (error) {
      metrics.originErrors.inc();
      this.failures += 1;
      const backoff = Math.min(2 * this.options.flushMs, this.options.flushMs * 2 ** (this.failures - 1));
      this.nextAttemptAt = Date.now() + backoff;
      const refused = error instanceof OriginRefusedError;
      log[refused ? "error" : "warn"](
        { err: error, pages: batchPages.length, bytes, retryInMs: backoff },
        refused
          ? "flush: the origin refused a batch; the pages stay dirty (this is a bug: report it with the log)"
          : "flush: origin unavailable; the pages stay dirty and will be retried",
      );
      throw error;
    }
  }

  private settle(item: Taken, answer: FlushAnswerPage): void {
    const { page } = item;
    const originVector = fromBase64(answer.stateVector);
    page.originVector = originVector;
    page.revision = answer.revision;
    page.unflushedEdits = Math.max(0, page.unflushedEdits - item.edits);
    page.unflushedBytes = Math.max(0, page.unflushedBytes - item.bytes);
    if (page.dirtyGeneration === item.generation) page.unflushedAuthors.clear();
    page.markFlushed(item.generation);
    const missing = fromBase64(answer.missing);
    if (updateHasContent(missing)) this.options.applyFromOrigin(page, missing);
    this.options.announceFlushed(page, originVector, answer.revision);
    if (item.logSequence > 0n) this.options.onCommitted?.(page, item.logSequence);
  }
}

/** An update that holds structs or deletions (an empty one is two zero bytes). */
export function updateHasContent(update: Uint8Array): boolean {
  if (update.byteLength <= 2) return false;
  const decoded = Y.decodeUpdate(update);
  return decoded.structs.length > 0 || decoded.ds.clients.size > 0;
}
