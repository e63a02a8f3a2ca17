import { randomUUID } from "node:crypto";
import * as Y from "yjs";
import type { Logger } from "../../common/logger";
import type { Membership } from "../pop/membership";
import type { EdgeMetrics } from "../metrics";
import { type OriginClient, OriginRefusedError, OriginUnavailableError } from "./origin-client";
import type { Page } from "../pages/page";
import { type FlushAnswer, type FlushAnswerPage, type FlushPage, fromBase64, toBase64 } from "../../protocol/flush";
import { splitUpdate } from "../pages/split-update";

export interface FlusherOptions {
  pop: string;
  replica: string;
  flushMs: number;
  /** Largest flush request body (EDGE_FLUSH_MAX_BYTES), below the origin's ORIGIN_MAX_BATCH_BYTES. */
  maxBatchBytes: number;
  origin: OriginClient;
  membership: Membership;
  pages: () => Iterable<Page>;
  /** Applies what the origin says this PoP lacks, and tells the peers. */
  /** What the origin has and the page lacked, with the origin's claims of its client ids. */
  applyFromOrigin: (page: Page, missing: Uint8Array, claims: [number, string][]) => void;
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

/** One page of a flush: what it took, its raw diff and its batch entry. */
interface Item {
  taken: Taken;
  update: Uint8Array;
  entry: FlushPage;
  /** About the entry's size in the JSON body. */
  bytes: number;
}

/** A page the origin refused (or failed on) when sent alone: it waits, dirty, before its next try. */
interface Hold {
  attempts: number;
  until: number;
  status: number | undefined;
  reason: string;
}

/** How one request went: taken, refused for its content (4xx), too large (413), or failed by an origin that answered (5xx). */
type Outcome =
  | { kind: "ok" }
  | { kind: "too-large"; bytes: number; error: OriginRefusedError }
  | { kind: "refused"; error: OriginRefusedError }
  | { kind: "failed"; error: OriginUnavailableError };

/** The origin answered, but refused or failed some pages: they stay dirty and wait on their own backoff. */
export class FlushIncompleteError extends Error {
  override name = "FlushIncompleteError";
  constructor(readonly slugs: string[]) {
    super(`flush: the origin refused or failed on ${slugs.length} page(s) (${slugs.slice(0, 5).join(", ")}${slugs.length > 5 ? ", ..." : ""}); they stay dirty and are retried`);
  }
}

// Retries stay close to the flush interval: one request per flusher per
// interval is already a bounded load for a recovering origin, and the edges
// must be flushed within two intervals of its return.

/** Room for the batch's own fields (id, pop, edge) around its pages. */
const ENVELOPE_BYTES = 1024;
/** The batch size limit never falls below this after 413s: a page's diff then goes in parts of this size. */
const MIN_BATCH_BYTES = 16 * 1024;
/** A page the origin keeps refusing is retried at least this often. */
const MAX_HOLD_MS = 30_000;
/** Statuses that say "this content", not "this origin": the batch is split to find the page. */
const CONTENT_STATUSES = new Set([400, 413, 422]);

/**
 * Sends, every flush interval, the dirty pages this replica owns (rendezvous
 * hashing over the PoP's live members) in batches of at most
 * `maxBatchBytes`, and applies the origin's answers. The origin sees a few
 * transactions per flushing replica per interval, however many edits were
 * made. When the origin is down, pages stay dirty (and are never evicted)
 * and the flusher backs off.
 *
 * One page must never hold up the others. A page's diff over the batch
 * limit goes alone, in parts (split-update.ts). A batch the origin refuses
 * for its content (400, 413, 422) or fails on while answering (5xx) is split
 * in halves until the page at fault is alone; that page stays dirty, is
 * logged and counted, and waits on its own backoff while the rest flows. A
 * 413 also lowers this replica's batch limit: the origin's is smaller than
 * EDGE_FLUSH_MAX_BYTES.
 */
export class Flusher {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private failures = 0;
  private nextAttemptAt = 0;
  private maxBatchBytes: number;
  private readonly holds = new Map<string, Hold>();
  lastSuccessAt = 0;

  constructor(private readonly options: FlusherOptions) {
    this.maxBatchBytes = options.maxBatchBytes;
    options.metrics.flushMaxBytes.set(this.maxBatchBytes);
  }

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.options.flushMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Pages waiting out a refusal of the origin, with why. */
  heldPages(): Map<string, Readonly<Hold>> {
    return this.holds;
  }

  private async tick(): Promise<void> {
    if (this.running || Date.now() < this.nextAttemptAt) return;
    await this.flush("owned").catch(() => {});
  }

  /**
   * One flush now. "owned" sends the dirty pages this replica owns; "all"
   * sends every dirty page it holds (on shutdown, when it may be the last to
   * hold them), refused ones included. Rejects when the origin could not be
   * reached, or refused some pages (the others were sent).
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
    const items = this.collect(which);
    if (items.length === 0) return;
    const queue = this.pack(items);
    // An origin that answers 5xx to everything is down, not refusing one
    // page: past what finding one bad page by halving takes, stop the round.
    let answeredFailures = 0;
    const failureBudget = 2 * Math.ceil(Math.log2(items.length + 1)) + 2;
    const held: string[] = [];
    try {
      while (queue.length > 0) {
        const group = queue.shift()!;
        const single = group.length === 1 ? group[0]! : undefined;
        const outcome = single && single.bytes + ENVELOPE_BYTES > this.maxBatchBytes ? await this.sendInParts(single) : await this.sendGroup(group);
        if (outcome.kind === "ok") continue;
        if (outcome.kind === "too-large" && this.maxBatchBytes > MIN_BATCH_BYTES) {
          this.lowerLimit(outcome.bytes, outcome.error);
          queue.unshift(...this.halves(group));
          continue;
        }
        if (outcome.kind === "failed") {
          answeredFailures += 1;
          if (answeredFailures > failureBudget) throw outcome.error;
        }
        if (group.length > 1) {
          queue.unshift(...this.halves(group));
          continue;
        }
        this.hold(single!, outcome.error.status, outcome.error.message);
        held.push(single!.taken.page.slug);
      }
    } catch (error) {
      this.failed(error, items.length);
      throw error;
    }
    this.failures = 0;
    this.nextAttemptAt = 0;
    this.lastSuccessAt = Date.now();
    this.options.metrics.lastFlushTimestamp.set(this.lastSuccessAt / 1000);
    this.options.metrics.flushHeldPages.set(this.holds.size);
    if (held.length > 0) throw new FlushIncompleteError(held);
  }

  /** The dirty pages to send now, with their diffs. */
  private collect(which: "owned" | "all"): Item[] {
    const { membership } = this.options;
    const items: Item[] = [];
    const now = Date.now();
    // A page dirty for two intervals that its flusher did not take (the
    // flusher may not hold it, or just died) is flushed here: a duplicate
    // flush is harmless, a missing one is not.
    const orphanedBefore = now - 2 * this.options.flushMs;
    const dirty = new Set<string>();
    for (const page of this.options.pages()) {
      if (!page.dirty) continue;
      dirty.add(page.slug);
      if (which === "owned" && !membership.owns(page.slug) && page.dirtySince > orphanedBefore) continue;
      if (which === "owned" && (this.holds.get(page.slug)?.until ?? 0) > now) continue;
      const update = page.pendingUpdate();
      const entry: FlushPage = {
        slug: page.slug,
        update: toBase64(update),
        stateVector: toBase64(Y.encodeStateVector(page.doc)),
        editCount: page.unflushedEdits,
        authors: [...page.unflushedAuthors].slice(0, 10_000),
        ...(page.logSequence > 0n ? { logSequence: page.logSequence.toString() } : {}),
        claims: page.claimsOf(update),
      };
      const bytes = entry.update.length + entry.stateVector.length + Buffer.byteLength(JSON.stringify(entry.authors)) + Buffer.byteLength(entry.slug) + 200;
      items.push({
        taken: { page, generation: page.dirtyGeneration, edits: page.unflushedEdits, bytes: page.unflushedBytes, logSequence: page.logSequence },
        update,
        entry,
        bytes,
      });
    }
    // A page flushed (by a peer) or evicted since is no longer held back.
    for (const slug of this.holds.keys()) if (!dirty.has(slug)) this.holds.delete(slug);
    return items;
  }

  /** Groups the items into batches under the limit; a page over it on its own. */
  private pack(items: Item[]): Item[][] {
    const limit = this.maxBatchBytes - ENVELOPE_BYTES;
    const groups: Item[][] = [];
    let current: Item[] = [];
    let size = 0;
    for (const item of items) {
      if (current.length > 0 && size + item.bytes > limit) {
        groups.push(current);
        current = [];
        size = 0;
      }
      current.push(item);
      size += item.bytes;
    }
    if (current.length > 0) groups.push(current);
    return groups;
  }

  private halves(group: Item[]): Item[][] {
    if (group.length === 1) return [group];
    const middle = Math.ceil(group.length / 2);
    return [group.slice(0, middle), group.slice(middle)];
  }

  /** One request with these pages; settles them when the origin takes it. */
  private async sendGroup(group: Item[]): Promise<Outcome> {
    const answer = await this.post(group.map((item) => item.entry), group.reduce((sum, item) => sum + item.update.byteLength, 0));
    if (!("pages" in answer)) return answer;
    const answers = new Map(answer.pages.map((page) => [page.slug, page]));
    for (const item of group) {
      const pageAnswer = answers.get(item.taken.page.slug);
      if (pageAnswer) this.settle(item, pageAnswer);
    }
    return { kind: "ok" };
  }

  /**
   * One page's diff over the batch limit, in parts, one request each. Each
   * part the origin takes moves the page's origin vector on, so a round cut
   * short resends only the rest; the page is settled with the last answer.
   * Its edit count, authors and log sequence travel with the last part, so
   * that the origin checkpoints the log only once it has the whole diff.
   */
  private async sendInParts(item: Item): Promise<Outcome> {
    const { entry, taken } = item;
    const overhead = item.bytes - entry.update.length + ENVELOPE_BYTES;
    const rawBudget = Math.max(4096, Math.floor(((this.maxBatchBytes - overhead) * 3) / 4));
    const parts = splitUpdate(item.update, rawBudget);
    this.options.log.info(
      { slug: taken.page.slug, bytes: item.update.byteLength, parts: parts.length, maxBatchBytes: this.maxBatchBytes },
      "flush: a page's diff is over the batch limit; sending it alone, in parts",
    );
    let last: FlushAnswerPage | undefined;
    for (const [index, part] of parts.entries()) {
      const final = index === parts.length - 1;
      const partEntry: FlushPage = final
        ? { ...entry, update: toBase64(part) }
        : { slug: entry.slug, update: toBase64(part), stateVector: entry.stateVector, editCount: 0, authors: [], claims: entry.claims };
      const answer = await this.post([partEntry], part.byteLength);
      if (!("pages" in answer)) return answer;
      this.options.metrics.flushParts.inc();
      last = answer.pages.find((page) => page.slug === entry.slug);
      // What the origin holds now: a later round resends only what follows.
      if (last && !final) taken.page.originVector = fromBase64(last.stateVector);
    }
    if (last) this.settle(item, last);
    return { kind: "ok" };
  }

  /**
   * Posts one batch. Answers the origin's answer, or how it refused or
   * failed while answering; throws when it could not be reached (or refused
   * the edge itself: 401, 403), which ends the round.
   */
  private async post(pages: FlushPage[], bytes: number): Promise<FlushAnswer | Exclude<Outcome, { kind: "ok" }>> {
    const { origin, metrics, pop, replica } = this.options;
    const batch = { batchId: `${replica}-${randomUUID()}`, pop, edge: replica, pages };
    const started = performance.now();
    try {
      const answer = await origin.flush(batch);
      metrics.flushBatches.inc();
      metrics.flushPages.inc(pages.length);
      metrics.flushBytes.inc(bytes);
      metrics.flushSeconds.observe((performance.now() - started) / 1000);
      return answer;
    } catch (error) {
      metrics.originErrors.inc();
      if (error instanceof OriginRefusedError && CONTENT_STATUSES.has(error.status)) {
        return error.status === 413 ? { kind: "too-large", bytes: JSON.stringify(batch).length, error } : { kind: "refused", error };
      }
      if (error instanceof OriginUnavailableError && error.status !== undefined) return { kind: "failed", error };
      throw error;
    }
  }

  /** The origin's body limit is below ours: halve ours (never below MIN_BATCH_BYTES) and say so. */
  private lowerLimit(refusedBytes: number, error: OriginRefusedError): void {
    const lowered = Math.max(MIN_BATCH_BYTES, Math.min(this.maxBatchBytes, refusedBytes) >> 1);
    this.options.log.warn(
      { err: error, refusedBytes, from: this.maxBatchBytes, to: lowered },
      "flush: the origin refused a batch as too large (413); lowering this replica's batch limit: set EDGE_FLUSH_MAX_BYTES below the origin's ORIGIN_MAX_BATCH_BYTES",
    );
    this.maxBatchBytes = lowered;
    this.options.metrics.flushMaxBytes.set(lowered);
  }

  /** The origin refused (or failed on) this page alone: it stays dirty and waits, doubling, up to MAX_HOLD_MS. */
  private hold(item: Item, status: number | undefined, reason: string): void {
    const { page } = item.taken;
    const attempts = (this.holds.get(page.slug)?.attempts ?? 0) + 1;
    const waitMs = Math.min(MAX_HOLD_MS, this.options.flushMs * 2 ** (attempts - 1));
    this.holds.set(page.slug, { attempts, until: Date.now() + waitMs, status, reason });
    this.options.metrics.flushRefusedPages.inc({ status: String(status ?? "none") });
    this.options.log.error(
      { slug: page.slug, status, reason, attempts, bytes: item.update.byteLength, retryInMs: waitMs },
      `flush: the origin refused page ${page.slug} (${status}); it stays dirty and is retried, the other pages flush`,
    );
  }

  private failed(error: unknown, pages: number): void {
    const { metrics, log } = this.options;
    this.failures += 1;
    const backoff = Math.min(2 * this.options.flushMs, this.options.flushMs * 2 ** (this.failures - 1));
    this.nextAttemptAt = Date.now() + backoff;
    metrics.flushHeldPages.set(this.holds.size);
    const refused = error instanceof OriginRefusedError;
    log[refused ? "error" : "warn"](
      { err: error, pages, retryInMs: backoff },
      refused
        ? "flush: the origin refused this edge's request (see its status; 401/403: check EDGE_SERVICE_SECRET); the pages stay dirty and are retried"
        : "flush: origin unavailable; the pages stay dirty and will be retried",
    );
  }

  private settle(item: Item, answer: FlushAnswerPage): void {
    const { page } = item.taken;
    const taken = item.taken;
    this.holds.delete(page.slug);
    const originVector = fromBase64(answer.stateVector);
    page.originVector = originVector;
    page.revision = answer.revision;
    page.unflushedEdits = Math.max(0, page.unflushedEdits - taken.edits);
    page.unflushedBytes = Math.max(0, page.unflushedBytes - taken.bytes);
    if (page.dirtyGeneration === taken.generation) page.unflushedAuthors.clear();
    page.markFlushed(taken.generation);
    const missing = fromBase64(answer.missing);
    if (updateHasContent(missing) || answer.claims) this.options.applyFromOrigin(page, missing, answer.claims ?? []);
    this.options.announceFlushed(page, originVector, answer.revision);
    if (taken.logSequence > 0n) this.options.onCommitted?.(page, taken.logSequence);
  }
}

/** An update that holds structs or deletions (an empty one is two zero bytes). */
export function updateHasContent(update: Uint8Array): boolean {
  if (update.byteLength <= 2) return false;
  const decoded = Y.decodeUpdate(update);
  return decoded.structs.length > 0 || decoded.ds.clients.size > 0;
}
