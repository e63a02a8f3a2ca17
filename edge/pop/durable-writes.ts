import type { Page } from "../pages/page";

/** Writes an update to where the durability level keeps it (the PoP log, the origin); rejects when it could not. */
export type WriteDurably = (page: Page, update: Uint8Array, authors: string[]) => Promise<void>;

/** One update a page holds in memory that is not yet known to be durable. */
interface PendingWrite {
  readonly update: Uint8Array;
  readonly authors: string[];
  /** The page's dirtyGeneration once the update is applied: an origin commit of it covers the update. */
  generation: number;
  /** The write in flight, or undefined when the last one failed (or none was tried) and it must be written again. */
  inFlight: Promise<void> | undefined;
}

/**
 * What each page holds in memory that is not yet durable at the replica's
 * level, so that no acknowledgement ever runs ahead of it (issue 17, hole 2).
 *
 * An update is applied before its write (log append, origin commit)
 * finishes. When the write fails, the client is closed and resends the
 * update on reconnect, but the resend changes nothing in memory: without
 * this record it was acknowledged at once, though never written. So every
 * acknowledgement on a page waits for the writes of everything the page took
 * before it, whichever connection delivered it, and writes again (Yjs
 * updates are idempotent) what failed or what came from a peer's memory.
 * An entry is dropped once written, or once an origin commit covered it.
 */
export class DurableWrites {
  private readonly pages = new WeakMap<Page, Set<PendingWrite>>();
  /**
   * Per page, the promise of the last client update's acknowledgement: it
   * resolves once that update and all before it are written, so the next
   * one waits on it alone instead of on every write in flight (a hot page
   * has dozens). When it rejects, the next one settles the page instead.
   */
  private readonly tails = new WeakMap<Page, Promise<void>>();
  /** Per page, the entries no write is in flight for (failed, or from a peer): the next acknowledgement writes them. */
  private readonly unwritten = new WeakMap<Page, number>();

  constructor(private readonly write: WriteDurably) {}

  /**
   * A client's update, written now. `applied` resolves once it is in the
   * page. Resolves once it, and everything the page held before it, is
   * durable; rejects (the caller closes the client, which resends) otherwise.
   */
  add(page: Page, update: Uint8Array, author: string, applied: Promise<void>): Promise<void> {
    const tail = this.tails.get(page);
    const before = (this.unwritten.get(page) ?? 0) > 0 || !tail ? this.settle(page) : tail.catch(() => this.settle(page));
    const pending: PendingWrite = { update, authors: [author], generation: Number.POSITIVE_INFINITY, inFlight: undefined };
    this.pending(page).add(pending);
    this.adjustUnwritten(page, 1);
    const own = this.start(page, pending);
    applied.then(
      () => (pending.generation = page.dirtyGeneration),
      () => {},
    );
    const done = Promise.all([own, before]).then(() => undefined);
    this.tails.set(page, done);
    done.then(
      () => {
        if (this.tails.get(page) === done) this.tails.delete(page);
      },
      () => {},
    );
    return done;
  }

  /**
   * Content that reached the page from a peer's memory (anti-entropy, a
   * draining peer, a bootstrap): that peer may hold it because its own
   * write failed. It is written again by the next acknowledgement that
   * needs it, unless a flush of `generation` or later covered it first.
   */
  unverified(page: Page, update: Uint8Array, generation = page.dirtyGeneration): void {
    this.pending(page).add({ update, authors: [], generation, inFlight: undefined });
    this.adjustUnwritten(page, 1);
  }

  /** Resolves once everything the page holds now is durable, writing again what is not. */
  async settle(page: Page): Promise<void> {
    const pending = this.pages.get(page);
    if (!pending || pending.size === 0) return;
    await Promise.all([...pending].map((entry) => this.ensure(page, entry)));
  }

  /** Entries of `page` not known durable (for tests and metrics). */
  count(page: Page): number {
    return this.pages.get(page)?.size ?? 0;
  }

  private async ensure(page: Page, entry: PendingWrite): Promise<void> {
    if (entry.inFlight) {
      try {
        await entry.inFlight;
        return;
      } catch {
        // Failed meanwhile: written again below, once, for this acknowledgement.
      }
    }
    if (!this.pending(page).has(entry)) return;
    if (this.committed(page, entry)) {
      this.pending(page).delete(entry);
      this.adjustUnwritten(page, -1);
      return;
    }
    await this.start(page, entry);
  }

  /** One write of `entry`, shared by every acknowledgement waiting for it. */
  private start(page: Page, entry: PendingWrite): Promise<void> {
    if (entry.inFlight) return entry.inFlight;
    const write = this.write(page, entry.update, entry.authors).then(
      () => {
        this.pending(page).delete(entry);
      },
      (error: unknown) => {
        if (entry.inFlight === write) {
          entry.inFlight = undefined;
          this.adjustUnwritten(page, 1);
        }
        throw error;
      },
    );
    entry.inFlight = write;
    this.adjustUnwritten(page, -1);
    write.catch(() => {});
    return write;
  }

  /** The origin acknowledged a flush of the page that included the entry. */
  private committed(page: Page, entry: PendingWrite): boolean {
    return page.flushedGeneration >= entry.generation;
  }

  private adjustUnwritten(page: Page, by: number): void {
    this.unwritten.set(page, (this.unwritten.get(page) ?? 0) + by);
  }

  private pending(page: Page): Set<PendingWrite> {
    let pending = this.pages.get(page);
    if (!pending) {
      pending = new Set();
      this.pages.set(page, pending);
    }
    return pending;
  }
}
