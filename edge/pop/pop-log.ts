import type { Logger } from "../../common/logger";
import { parseSlug, type Slug } from "../../common/slug";
import type { DurableLog, LogEntry, Unsubscribe } from "../../broker/broker";
import * as Y from "yjs";
import type { Page, Protection, UpdateOrigin } from "../pages/page";
import { type ClientClaimList, decodeEnvelope, encodeEnvelope } from "../../protocol/envelope";
import { TurnAppends } from "./turn-appends";

/** What the log needs from its replica. */
export interface PopLogHost {
  readonly replica: string;
  openPage(slug: Slug): Promise<Page>;
  heldPage(slug: string): Page | undefined;
  loadingPage(slug: string): Promise<Page> | undefined;
  apply(page: Page, update: Uint8Array, origin: UpdateOrigin): void;
  /** Applies a followed entry (`edits` client edits, merged) with the others of its tick, then advances the page's log sequence. */
  applyLogEntry(page: Page, update: Uint8Array, sequence: bigint, edits: number): void;
  /** Whether the page has updates waiting for their tick's transaction. */
  applyPending(page: Page): boolean;
  /** The client id claims an entry carries, learnt before its update is applied. */
  learnClaims(page: Page, claims: ClientClaimList, from: string): void;
}

/** A page as the log alone holds it: its checkpoints merged, and what the newest knew of the origin. */
export interface LoggedPage {
  state: Uint8Array;
  protection: Protection;
  originVector: Uint8Array;
  revision: number;
  /** Every client id claim of its checkpoints. */
  claims: ClientClaimList;
}

type Decoded =
  | { type: "update"; slug: Slug; update: Uint8Array; replica: string; claims: ClientClaimList; edits: number }
  | { type: "checkpoint"; slug: Slug; state: Uint8Array; protection: Protection; originVector: Uint8Array; revision: number; claims: ClientClaimList };

/**
 * The PoP's durable log at `pop` durability: every acknowledged client
 * update is in it before its ack. A replica follows the log in order (that
 * is how peers' updates reach it) and replays it when it starts or when a
 * peer vanished, so that nothing acknowledged lives only in a dead replica's
 * memory. Replaying an entry twice is harmless: Yjs updates are idempotent.
 *
 * Each page's entries in the log start from a checkpoint (the page's whole
 * state, written before its first entry and after each origin commit), and
 * a commit purges only what an older checkpoint or entry held once a newer
 * checkpoint holds it. So the log alone rebuilds any page it has entries
 * for, and a PoP whose replicas all died serves again while the origin is
 * down. A page the log cannot rebuild (no checkpoint: written by replicas
 * from before checkpoints) is retried until a peer or the origin has it.
 */
export class PopLog {
  private unfollow: Unsubscribe | undefined;
  private recovering: Promise<void> | undefined;
  /** Pages whose log holds a checkpoint, as far as this replica knows. */
  private readonly checkpointed = new WeakSet<Page>();
  /** Pages with entries in the log that no peer, origin or checkpoint could give yet: retried. */
  private readonly unrecovered = new Map<Slug, unknown>();
  private retryTimer: NodeJS.Timeout | undefined;
  /** One pending retry of a failed recovery, however many peers vanished meanwhile. */
  private recoveryRetry: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Per page, the updates appended in this turn of the event loop: one log entry at the turn's end. */
  private readonly appends = new TurnAppends((page, update, authors) =>
    this.log.append(
      this.subjectOf(page.slug),
      encodeEnvelope({ type: "update", replica: this.host.replica, slug: page.slug, update, edits: authors.length, authors, claims: page.claimsOf(update) }),
    ),
  );
  /**
   * The log as a replay read it, while it runs: the pages it opens read
   * their entries from it instead of reading the whole log again each (what
   * follows it reaches them through the follow, which starts after it).
   */
  private replaying: LogEntry[] | undefined;

  constructor(
    private readonly log: DurableLog,
    private readonly host: PopLogHost,
    /** The log subject of a page's entries. */
    private readonly subjectOf: (slug: string) => string,
    private readonly logger: Logger,
    /** How often pages and recoveries that failed are tried again. */
    private readonly retryMs = 2000,
  ) {}

  /**
   * Replays every entry still in the log, then follows new ones. A page
   * that cannot be loaded is left for later (retried every `retryMs`)
   * rather than failing the rest; only a log that cannot be read rejects.
   */
  async recover(): Promise<void> {
    if (this.recovering) return this.recovering;
    this.recovering = this.replayAll().finally(() => (this.recovering = undefined));
    return this.recovering;
  }

  /**
   * How a replica starts: reads the log and follows it, then replays its
   * pages in the background, so that the replica serves at once instead of
   * after the whole log (17 s under the spike). A page opened before the
   * background replay reached it replays its own entries as it loads
   * (`replayPage`, from the entries read here and every one followed
   * since), so no client sees a page without its logged entries. Only a log
   * that cannot be read or followed rejects.
   */
  async start(): Promise<void> {
    if (this.unfollow) return;
    const entries = await this.log.readAll();
    // Kept current with what the follow brings until the background replay
    // ends: a page opened meanwhile reads its entries here.
    this.replaying = [...entries];
    const from = (entries.at(-1)?.sequence ?? 0n) + 1n;
    this.unfollow = await this.log.follow(from, (entry) => this.onEntry(entry));
    this.recovering = this.replayEntries(entries)
      .catch((error: unknown) => this.logger.error({ err: error }, "pop log: the background replay failed; pages still load their entries when opened"))
      .finally(() => {
        this.replaying = undefined;
        this.recovering = undefined;
      });
  }

  /** Resolves when the background replay of `start` (or a recovery) is done. */
  async replayed(): Promise<void> {
    await this.recovering;
  }

  /** A recovery after a peer vanished: one that fails (the log unreadable) is tried again, not just logged. */
  recoverAgain(): void {
    this.recover().catch((error: unknown) => {
      if (this.stopped || this.recoveryRetry) return;
      this.logger.warn({ err: error, retryInMs: this.retryMs }, "pop log: recovery failed; trying again");
      this.recoveryRetry = setTimeout(() => {
        this.recoveryRetry = undefined;
        this.recoverAgain();
      }, this.retryMs);
      this.recoveryRetry.unref();
    });
  }

  /** Slugs with entries in the log that this replica could not load yet. */
  get pagesToRecover(): Slug[] {
    return [...this.unrecovered.keys()];
  }

  private async replayAll(): Promise<void> {
    const entries = await this.log.readAll();
    this.replaying = entries;
    try {
      await this.replayEntries(entries);
    } finally {
      this.replaying = undefined;
    }
    if (!this.unfollow) {
      // From 1 when the log was empty: an entry appended meanwhile must not be skipped.
      const from = (entries.at(-1)?.sequence ?? 0n) + 1n;
      this.unfollow = await this.log.follow(from, (entry) => this.onEntry(entry));
    }
  }

  private async replayEntries(entries: LogEntry[]): Promise<void> {
    let applied = 0;
    const failed = new Map<Slug, unknown>();
    for (const entry of entries) {
      const decoded = this.decode(entry);
      if (!decoded || failed.has(decoded.slug)) continue;
      let page = this.host.heldPage(decoded.slug);
      if (!page) {
        try {
          page = await this.host.openPage(decoded.slug);
        } catch (error) {
          failed.set(decoded.slug, error);
          continue;
        }
      }
      if (decoded.type === "checkpoint") {
        this.checkpointed.add(page);
        this.host.learnClaims(page, decoded.claims, "log");
        continue;
      }
      this.applyEntry(page, entry.sequence, decoded);
      applied += 1;
    }
    if (applied > 0) this.logger.info({ entries: applied }, "pop log: replayed entries the origin may not have");
    for (const [slug, error] of failed) this.unrecovered.set(slug, error);
    if (failed.size > 0) {
      this.logger.warn(
        { pages: [...failed.keys()].slice(0, 20), count: failed.size, err: failed.values().next().value },
        "pop log: pages with entries in the log could not be loaded (no peer, no origin, no checkpoint); serving the others and retrying these",
      );
      this.scheduleRetry();
    }
  }

  private scheduleRetry(): void {
    if (this.retryTimer || this.stopped) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.retryUnrecovered();
    }, this.retryMs);
    this.retryTimer.unref();
  }

  private async retryUnrecovered(): Promise<void> {
    for (const slug of [...this.unrecovered.keys()]) {
      if (this.stopped) return;
      if (this.host.heldPage(slug)) {
        this.unrecovered.delete(slug);
        continue;
      }
      try {
        // Opening replays the page's entries (replayPage).
        await this.host.openPage(slug);
        this.unrecovered.delete(slug);
        this.logger.info({ slug }, "pop log: recovered a page that could not be loaded before");
      } catch (error) {
        this.unrecovered.set(slug, error);
      }
    }
    if (this.unrecovered.size > 0) this.scheduleRetry();
  }

  /** A page just loaded: apply its entries still in the log. */
  async replayPage(page: Page): Promise<void> {
    for (const entry of this.replaying ?? (await this.log.readAll())) {
      const decoded = this.decode(entry);
      if (decoded?.slug !== page.slug) continue;
      if (decoded.type === "checkpoint") {
        this.checkpointed.add(page);
        this.host.learnClaims(page, decoded.claims, "log");
      } else this.applyEntry(page, entry.sequence, decoded);
    }
  }

  /**
   * The page as the log alone holds it, for a load when neither a peer nor
   * the origin answers: every checkpoint of it merged (two flushers may
   * each have written one, and each purge keeps the newer), with the newest
   * one's protection and origin state vector. Its entries are applied by
   * `replayPage` like any load's. Undefined when the log has no checkpoint
   * of it: its entries alone may lack the page's base and would show a
   * partial page.
   */
  async loggedPage(slug: Slug): Promise<LoggedPage | undefined> {
    const states: Uint8Array[] = [];
    const claims: ClientClaimList = [];
    let newest: Extract<Decoded, { type: "checkpoint" }> | undefined;
    for (const entry of this.replaying ?? (await this.log.readAll())) {
      const decoded = this.decode(entry);
      if (decoded?.slug !== slug || decoded.type !== "checkpoint") continue;
      states.push(decoded.state);
      claims.push(...decoded.claims);
      newest = decoded;
    }
    if (!newest) return undefined;
    return { state: Y.mergeUpdates(states), protection: newest.protection, originVector: newest.originVector, revision: newest.revision, claims };
  }

  /**
   * Appends a client's update (or content written again) to the page's log.
   * The page's first entry from this replica goes after a checkpoint, unless
   * it saw one in the log. The updates of one turn of the event loop share
   * one entry, and the append resolves once it is in the log (turn-appends.ts).
   */
  append(page: Page, update: Uint8Array, authors: string[]): Promise<void> {
    if (!this.checkpointed.has(page)) {
      this.checkpointed.add(page);
      // Not awaited: the update is durable without it; a failure only means
      // the next append tries again. Sent before the turn's entry, so it
      // precedes it in the log.
      this.checkpoint(page).catch((error: unknown) => {
        this.checkpointed.delete(page);
        this.logger.warn({ err: error, slug: page.slug }, "pop log: could not write a page's checkpoint; the next update tries again");
      });
    }
    return this.appends.append(page, update, authors);
  }

  /**
   * The origin committed the page with everything up to `sequence`: a new
   * checkpoint holds it (the page after the commit, which includes every
   * entry up to `sequence` and what the origin said this PoP lacked), then
   * the entries and checkpoints up to `sequence` are dropped.
   */
  async committed(page: Page, sequence: bigint): Promise<void> {
    try {
      await this.checkpoint(page);
      this.checkpointed.add(page);
    } catch (error) {
      // The origin has everything purged below, so nothing acknowledged is
      // lost; without a checkpoint the page waits for a peer or the origin
      // if the whole PoP restarts while the origin is down.
      this.checkpointed.delete(page);
      this.logger.warn({ err: error, slug: page.slug }, "pop log: could not write a checkpoint after a commit; the page cannot be rebuilt from the log alone until the next one");
    }
    await this.log.purge(this.subjectOf(page.slug), sequence + 1n).catch((error: unknown) => {
      this.logger.warn({ err: error, slug: page.slug }, "pop log: purge failed; the entries stay and are replayed harmlessly");
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    // This turn's appends go now, while the broker is still open: their callers wait on them.
    this.appends.sendNow();
    clearTimeout(this.retryTimer);
    clearTimeout(this.recoveryRetry);
    this.unfollow?.();
    this.unfollow = undefined;
  }

  private async checkpoint(page: Page): Promise<void> {
    await this.log.append(
      this.subjectOf(page.slug),
      encodeEnvelope({
        type: "checkpoint",
        replica: this.host.replica,
        slug: page.slug,
        state: Y.encodeStateAsUpdate(page.doc),
        protection: page.protection,
        originVector: page.originVector,
        revision: page.revision,
        claims: page.claims.all(),
      }),
    );
  }

  private onEntry(entry: LogEntry): void {
    this.replaying?.push(entry);
    const decoded = this.decode(entry);
    if (!decoded) return;
    const page = this.host.heldPage(decoded.slug);
    if (decoded.type === "checkpoint") {
      // Nothing to apply: the page's content reached this replica as entries or loads.
      if (page) this.checkpointed.add(page);
      return;
    }
    if (!page) {
      // A page still loading may have read the log before this entry was
      // appended: apply it once the page is there, or the commit of a later
      // sequence would purge an entry the page never saw.
      void this.host.loadingPage(decoded.slug)?.then(
        (loaded) => {
          this.host.learnClaims(loaded, decoded.claims, decoded.replica);
          this.host.applyLogEntry(loaded, decoded.update, entry.sequence, decoded.edits);
        },
        () => {},
      );
      return;
    }
    if (decoded.replica === this.host.replica && !this.host.applyPending(page)) {
      // Our own entry: already applied when the client sent it. Not while
      // the page still has entries waiting for their tick: the sequence
      // must not pass them (the flusher reports it, and the log is purged
      // up to it), so then it queues behind them, a harmless re-apply.
      if (entry.sequence > page.logSequence) page.logSequence = entry.sequence;
      return;
    }
    this.host.learnClaims(page, decoded.claims, decoded.replica);
    this.host.applyLogEntry(page, decoded.update, entry.sequence, decoded.edits);
  }

  /** Replayed entries are applied at once: a page loaded or recovered holds them before it serves. */
  private applyEntry(page: Page, sequence: bigint, { update, claims, replica, edits }: { update: Uint8Array; claims: ClientClaimList; replica: string; edits: number }): void {
    this.host.learnClaims(page, claims, replica);
    this.host.apply(page, update, { kind: "log", edits });
    if (sequence > page.logSequence) page.logSequence = sequence;
  }

  private decode(entry: LogEntry): Decoded | undefined {
    try {
      const envelope = decodeEnvelope(entry.data);
      switch (envelope.type) {
        case "update":
          return { type: "update", slug: parseSlug(envelope.slug), update: envelope.update, replica: envelope.replica, claims: envelope.claims, edits: envelope.edits };
        case "checkpoint":
          return {
            type: "checkpoint",
            slug: parseSlug(envelope.slug),
            state: envelope.state,
            protection: envelope.protection,
            originVector: envelope.originVector,
            revision: envelope.revision,
            claims: envelope.claims,
          };
        default:
          return undefined;
      }
    } catch (error) {
      this.logger.warn({ err: error, sequence: entry.sequence.toString() }, "pop log: skipped an entry that does not decode");
      return undefined;
    }
  }
}
