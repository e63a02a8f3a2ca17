import * as Y from "yjs";
import type { Page, UpdateOrigin } from "./page";

interface ClientEntry {
  update: Uint8Array;
  connectionId: number;
  author: string;
  applied: () => void;
  failed: (error: Error) => void;
}

interface RemoteEntry {
  update: Uint8Array;
  authors: readonly string[];
  edits: number;
}

/** What one page received since the last tick, by where it came from. */
interface Waiting {
  clients: ClientEntry[];
  peers: RemoteEntry[];
  relays: Uint8Array[];
  /** Entries of the PoP's log (at `pop`), in log order. */
  logs: { update: Uint8Array; sequence: bigint; edits: number }[];
  bytes: number;
}

/**
 * Applies the updates a page receives in one turn of the event loop in one
 * Yjs transaction per kind of origin, not one each. A Yjs transaction
 * snapshots the state vector of every author of the page when it starts and
 * when it ends, and walks both when it emits its update: on a page with
 * 1,000 authors each edit cost O(1,000) map work before anything else,
 * which a profile showed as a quarter of a hot page's edge CPU. Batching
 * per tick costs no latency (the batch runs before the loop next waits for
 * I/O, in setImmediate's phase) and grows with the load: the busier the
 * loop, the longer its turns and the more each transaction carries.
 *
 * Grouping by kind keeps the accounting the update handler does per origin
 * (client edits are dirty here and published; peers' and the PoP log's are
 * dirty but not published again; relayed ones are shown only). A client's update resolves
 * its promise once applied, so its acknowledgement never precedes it.
 */
export class TickBatcher {
  private readonly waiting = new Map<Page, Waiting>();
  private scheduled: NodeJS.Immediate | undefined;

  /**
   * @param maxBytes a page's batch is applied at once when this many bytes
   *   wait (the fan-out's bound: one transaction is one fan-out update, and
   *   a slow client may be sent one beyond its pause limit).
   */
  constructor(
    private readonly maxBytes: number,
    private readonly onError: (page: Page, error: Error) => void,
  ) {}

  client(page: Page, update: Uint8Array, connectionId: number, author: string): Promise<void> {
    return new Promise((applied, failed) => {
      this.pageWaiting(page).clients.push({ update, connectionId, author, applied, failed });
      this.added(page, update);
    });
  }

  peer(page: Page, update: Uint8Array, authors: readonly string[], edits: number): void {
    this.pageWaiting(page).peers.push({ update, authors, edits });
    this.added(page, update);
  }

  relay(page: Page, update: Uint8Array): void {
    this.pageWaiting(page).relays.push(update);
    this.added(page, update);
  }

  /** A followed entry of the PoP's log (`edits` client edits, merged): once applied, the page's log sequence reaches it. */
  log(page: Page, update: Uint8Array, sequence: bigint, edits = 1): void {
    this.pageWaiting(page).logs.push({ update, sequence, edits });
    this.added(page, update);
  }

  /** Whether a page has updates not applied yet (such a page must not be evicted). */
  holds(page: Page): boolean {
    return this.waiting.has(page);
  }

  /** Applies everything waiting now (the tick's own run, and before a drain or stop). */
  flush(): void {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    const batches = [...this.waiting];
    this.waiting.clear();
    for (const [page, waiting] of batches) this.applyPage(page, waiting);
  }

  /** One page's batch; whatever happens, every client entry is settled, and the other pages still get theirs. */
  private applyPage(page: Page, waiting: Waiting): void {
    if (this.waiting.size === 0 && this.scheduled) {
      clearImmediate(this.scheduled);
      this.scheduled = undefined;
    }
    const settled = new Set<ClientEntry>();
    try {
      this.applyGroups(page, waiting, settled);
    } catch (error) {
      // Thrown by the doc's update handler (after the updates were applied) or by Yjs itself.
      this.onError(page, error as Error);
    } finally {
      for (const entry of waiting.clients) if (!settled.has(entry)) entry.failed(new Error(`page ${page.slug}: the update's transaction failed`));
    }
  }

  private added(page: Page, update: Uint8Array): void {
    const waiting = this.waiting.get(page)!;
    waiting.bytes += update.byteLength;
    if (waiting.bytes < this.maxBytes) return;
    this.waiting.delete(page);
    this.applyPage(page, waiting);
  }

  private pageWaiting(page: Page): Waiting {
    let waiting = this.waiting.get(page);
    if (!waiting) {
      waiting = { clients: [], peers: [], relays: [], logs: [], bytes: 0 };
      this.waiting.set(page, waiting);
    }
    this.scheduled ??= setImmediate(() => this.flush());
    return waiting;
  }

  private applyGroups(page: Page, { clients, peers, relays, logs }: Waiting, settled: Set<ClientEntry>): void {
    if (clients.length > 0) {
      const origin: UpdateOrigin = { kind: "client", connections: new Set(), authors: new Set(), edits: 0 };
      const outcomes = this.transact(page, origin, clients.map((entry) => entry.update), (i) => {
        const entry = clients[i]!;
        origin.connections.add(entry.connectionId);
        origin.authors.add(entry.author);
        origin.edits += 1;
      });
      // Settled after the transaction, whose update handler marked them dirty and sent them on.
      clients.forEach((entry, i) => {
        const error = outcomes[i];
        if (error) entry.failed(error);
        else entry.applied();
        settled.add(entry);
      });
    }
    if (peers.length > 0) {
      const origin: UpdateOrigin = { kind: "peer", authors: new Set(), edits: 0 };
      this.transact(page, origin, peers.map((entry) => entry.update), (i) => {
        for (const author of peers[i]!.authors) if (author) origin.authors.add(author);
        origin.edits += peers[i]!.edits;
      });
    }
    if (relays.length > 0) this.transact(page, { kind: "relay" }, relays, () => {});
    if (logs.length > 0) {
      const origin: UpdateOrigin = { kind: "log", edits: 0 };
      const outcomes = this.transact(page, origin, logs.map((entry) => entry.update), (i) => (origin.edits += logs[i]!.edits));
      // The flusher reports this sequence to the origin, and the log is
      // purged up to it once committed: it moves over what was applied (an
      // entry that can never apply, being corrupt, does not hold it back).
      logs.forEach((entry, i) => {
        if (!outcomes[i] && entry.sequence > page.logSequence) page.logSequence = entry.sequence;
      });
    }
  }

  /**
   * One transaction for a group. Each update is applied on its own inside
   * it, so that one that throws (a peer's corrupt update, say) costs only
   * itself; `applied(i)` counts what did apply into the origin, which the
   * transaction's single update event carries. Returns each update's error.
   */
  private transact(page: Page, origin: UpdateOrigin, updates: Uint8Array[], applied: (i: number) => void): (Error | undefined)[] {
    if (page.doc.isDestroyed) return updates.map(() => new Error(`page ${page.slug} was closed before the update was applied`));
    const outcomes: (Error | undefined)[] = [];
    try {
      page.doc.transact(() => {
        updates.forEach((update, i) => {
          try {
            Y.applyUpdate(page.doc, update, origin);
            applied(i);
            outcomes.push(undefined);
          } catch (error) {
            outcomes.push(error as Error);
            this.onError(page, error as Error);
          }
        });
      }, origin);
    } catch (error) {
      // Each apply has its own catch, so this came from the transaction's
      // cleanup: the doc's update handler (a publish the broker refused,
      // say). The updates are in the doc; what failed was only sending them
      // on, which anti-entropy repairs.
      this.onError(page, error as Error);
    }
    return outcomes;
  }
}
