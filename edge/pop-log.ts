import type { Logger } from "../common/logger";
import { parseSlug, type Slug } from "../common/slug";
import type { DurableLog, LogEntry, Unsubscribe } from "./broker/broker";
import type { Page, UpdateOrigin } from "./page";
import { decodeEnvelope } from "./protocol/envelope";

/** What the log needs from its replica. */
export interface PopLogHost {
  readonly replica: string;
  openPage(slug: Slug): Promise<Page>;
  heldPage(slug: string): Page | undefined;
  loadingPage(slug: string): Promise<Page> | undefined;
  apply(page: Page, update: Uint8Array, origin: UpdateOrigin): void;
  /** Applies a followed entry with the others of its tick, then advances the page's log sequence. */
  applyLogEntry(page: Page, update: Uint8Array, sequence: bigint): void;
  /** Whether the page has updates waiting for their tick's transaction. */
  applyPending(page: Page): boolean;
}

/**
 * The PoP's durable log at `pop` durability: every acknowledged client
 * update is in it before its ack. A replica follows the log in order (that
 * is how peers' updates reach it) and replays it when it starts or when a
 * peer vanished, so that nothing acknowledged lives only in a dead replica's
 * memory. Entries for a page are purged once the origin committed them.
 * Replaying an entry twice is harmless: Yjs updates are idempotent.
 */
export class PopLog {
  private unfollow: Unsubscribe | undefined;
  private recovering: Promise<void> | undefined;

  constructor(
    private readonly log: DurableLog,
    private readonly host: PopLogHost,
    /** The log subject of a page's entries. */
    private readonly subjectOf: (slug: string) => string,
    private readonly logger: Logger,
  ) {}

  /** Replays every entry still in the log, then follows new ones. */
  async recover(): Promise<void> {
    if (this.recovering) return this.recovering;
    this.recovering = this.replayAll().finally(() => (this.recovering = undefined));
    return this.recovering;
  }

  private async replayAll(): Promise<void> {
    const entries = await this.log.readAll();
    let applied = 0;
    for (const entry of entries) {
      const decoded = this.decode(entry);
      if (!decoded) continue;
      const page = this.host.heldPage(decoded.slug) ?? (await this.host.openPage(decoded.slug));
      this.applyEntry(page, entry.sequence, decoded.update);
      applied += 1;
    }
    if (applied > 0) this.logger.info({ entries: applied }, "pop log: replayed entries the origin may not have");
    if (!this.unfollow) {
      // From 1 when the log was empty: an entry appended meanwhile must not be skipped.
      const from = (entries.at(-1)?.sequence ?? 0n) + 1n;
      this.unfollow = await this.log.follow(from, (entry) => this.onEntry(entry));
    }
  }

  /** A page just loaded: apply its entries still in the log. */
  async replayPage(page: Page): Promise<void> {
    for (const entry of await this.log.readAll()) {
      const decoded = this.decode(entry);
      if (decoded?.slug === page.slug) this.applyEntry(page, entry.sequence, decoded.update);
    }
  }

  /** The origin committed `slug` with everything up to `sequence`: drop those entries. */
  async committed(slug: string, sequence: bigint): Promise<void> {
    await this.log.purge(this.subjectOf(slug), sequence + 1n).catch((error: unknown) => {
      this.logger.warn({ err: error, slug }, "pop log: purge failed; the entries stay and are replayed harmlessly");
    });
  }

  async stop(): Promise<void> {
    this.unfollow?.();
    this.unfollow = undefined;
  }

  private onEntry(entry: LogEntry): void {
    const decoded = this.decode(entry);
    if (!decoded) return;
    const page = this.host.heldPage(decoded.slug);
    if (!page) {
      // A page still loading may have read the log before this entry was
      // appended: apply it once the page is there, or the commit of a later
      // sequence would purge an entry the page never saw.
      void this.host.loadingPage(decoded.slug)?.then(
        (loaded) => this.host.applyLogEntry(loaded, decoded.update, entry.sequence),
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
    this.host.applyLogEntry(page, decoded.update, entry.sequence);
  }

  /** Replayed entries are applied at once: a page loaded or recovered holds them before it serves. */
  private applyEntry(page: Page, sequence: bigint, update: Uint8Array): void {
    this.host.apply(page, update, { kind: "log", edits: 1 });
    if (sequence > page.logSequence) page.logSequence = sequence;
  }

  private decode(entry: LogEntry): { slug: Slug; update: Uint8Array; replica: string } | undefined {
    try {
      const envelope = decodeEnvelope(entry.data);
      if (envelope.type !== "update") return undefined;
      return { slug: parseSlug(envelope.slug), update: envelope.update, replica: envelope.replica };
    } catch (error) {
      this.logger.warn({ err: error, sequence: entry.sequence.toString() }, "pop log: skipped an entry that does not decode");
      return undefined;
    }
  }
}
