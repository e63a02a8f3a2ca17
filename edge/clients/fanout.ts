import * as awarenessProtocol from "y-protocols/awareness";
import * as Y from "yjs";
import { framedWindow } from "./frames";
import type { Page } from "../pages/page";
import { encodeMessage } from "../../protocol/messages";

/** What one page has waiting for its clients in the current window. */
interface Outbox {
  updates: Uint8Array[];
  bytes: number;
  /** The connections whose own updates these are; when only one, it is spared its echo. */
  senders: Set<number | undefined>;
  /** Client ids whose presence changed, from anywhere. */
  awareness: Set<number>;
  /** ... of which these changed here (this replica's clients, closes, timeouts): the peers need them. */
  awarenessHere: Set<number>;
  timer: NodeJS.Timeout | undefined;
}

export interface FanoutOptions {
  /** The shortest window, for a page with few clients. */
  windowMs: number;
  /**
   * A crowded page's window lengthens (up to `maxWindowMs`) so that its
   * windows cost this replica about `sendsPerSecond` socket writes at most.
   */
  maxWindowMs?: number;
  sendsPerSecond?: number;
  /** Updates waiting past this many bytes are sent at once, before the window ends. */
  maxBytes: number;
  /** Sends a page's merged presence changes made on this replica to its peers. */
  publishAwareness(page: Page, update: Uint8Array): void;
  /** Measures one page's flush: clients reached, bytes of each message, time spent. */
  flushed?(clients: number, bytes: number, seconds: number): void;
}

/**
 * Coalesced fan-out to a page's clients. Acknowledging an edit costs tens of
 * microseconds; sending it to 200 co-editors one by one costs far more, and
 * an edge that sends every update to every client at once spends its core
 * on sends and acknowledges late. So a page's updates, from its clients, its
 * peers and the origin alike, are merged over a short window (`windowMs`,
 * or sooner when `maxBytes` pile up, so a window never holds more than that
 * plus one update) and each client, editor or follower, gets one update
 * message per window, whatever the edit rate: encoded and framed once, the
 * same buffer written to every socket (frames.ts). Merged Yjs updates apply like the originals
 * (Y.mergeUpdates). Presence changes are merged the same way: only the
 * clients whose state changed, each with its newest state, one message per
 * window to the clients and one envelope per window to the peers.
 */
export class Fanout {
  private readonly outboxes = new Map<Page, Outbox>();
  private stopped = false;

  constructor(private readonly options: FanoutOptions) {}

  /** `senders`: the connections whose updates these are (none for a peer's, the origin's, ...). */
  update(page: Page, update: Uint8Array, senders: Iterable<number> | undefined): void {
    if (this.stopped) return;
    const outbox = this.outbox(page);
    outbox.updates.push(update);
    outbox.bytes += update.byteLength;
    if (senders === undefined) outbox.senders.add(undefined);
    else for (const sender of senders) outbox.senders.add(sender);
    if (outbox.bytes >= this.options.maxBytes) this.flush(page);
    else this.schedule(page, outbox);
  }

  awareness(page: Page, clientIds: number[], here: boolean): void {
    if (this.stopped) return;
    const outbox = this.outbox(page);
    for (const id of clientIds) {
      outbox.awareness.add(id);
      if (here) outbox.awarenessHere.add(id);
    }
    this.schedule(page, outbox);
  }

  /** Sends what a page has waiting now (also before a page is evicted or the replica stops). */
  flush(page: Page): void {
    const outbox = this.outboxes.get(page);
    if (!outbox) return;
    const started = performance.now();
    this.outboxes.delete(page);
    clearTimeout(outbox.timer);
    let update: Uint8Array | undefined;
    let updateMessage: Uint8Array | undefined;
    if (outbox.updates.length > 0) {
      update = outbox.updates.length === 1 ? outbox.updates[0]! : Y.mergeUpdates(outbox.updates);
      updateMessage = encodeMessage({ type: "update", update });
    }
    let presenceMessage: Uint8Array | undefined;
    if (outbox.awareness.size > 0) {
      presenceMessage = encodeMessage({ type: "awareness", update: awarenessProtocol.encodeAwarenessUpdate(page.awareness, [...outbox.awareness]) });
    }
    // One buffer for every client; the lone sender of the window's updates
    // is spared its echo and gets the presence alone.
    const whole = framedWindow([updateMessage, presenceMessage].filter((message) => message !== undefined));
    const spared = updateMessage && outbox.senders.size === 1 ? [...outbox.senders][0] : undefined;
    const presenceOnly = spared !== undefined && presenceMessage ? framedWindow([presenceMessage]) : undefined;
    // Only a client that pauses on this window needs what the page held
    // before it; computed once, for the first.
    let before: Uint8Array | undefined;
    const stateVectorBefore = () => (before ??= update ? stateVectorWithout(page.doc, update) : Y.encodeStateVector(page.doc));
    for (const client of page.clients) {
      if (client.id !== spared) client.deliver(whole, stateVectorBefore);
      else if (presenceOnly) client.deliver(presenceOnly, stateVectorBefore);
    }
    if (presenceMessage) {
      // Counted after the sends: a client pausing on this very window skipped it.
      page.presenceFlushes += 1;
      if (outbox.awarenessHere.size > 0) {
        this.options.publishAwareness(page, awarenessProtocol.encodeAwarenessUpdate(page.awareness, [...outbox.awarenessHere]));
      }
    }
    this.options.flushed?.(page.clients.size, whole.frames.byteLength, (performance.now() - started) / 1000);
  }

  /** Sends what waits, then nothing more: the replica is stopping and its broker is about to close. */
  stop(): void {
    for (const page of [...this.outboxes.keys()]) this.flush(page);
    this.stopped = true;
  }

  private outbox(page: Page): Outbox {
    let outbox = this.outboxes.get(page);
    if (!outbox) {
      outbox = { updates: [], bytes: 0, senders: new Set(), awareness: new Set(), awarenessHere: new Set(), timer: undefined };
      this.outboxes.set(page, outbox);
    }
    return outbox;
  }

  private schedule(page: Page, outbox: Outbox): void {
    outbox.timer ??= setTimeout(() => this.flush(page), this.windowOf(page));
  }

  /**
   * Every window costs one write per client. A page with 1,000 clients and
   * changes arriving all the time would cost 200,000 writes a second at
   * 5 ms; at 50 ms, 20,000, and each carries ten times as much. So the window
   * is as long as keeps a page near `sendsPerSecond` writes, between
   * `windowMs` and `maxWindowMs`: a quiet page keeps the short window.
   */
  windowOf(page: Page): number {
    const { windowMs, maxWindowMs = windowMs, sendsPerSecond } = this.options;
    if (!sendsPerSecond) return windowMs;
    return Math.min(maxWindowMs, Math.max(windowMs, Math.round((1000 * page.clients.size) / sendsPerSecond)));
  }
}

/**
 * The page's state vector as it was before `update` (already applied): for
 * each client the update touches, its first clock. A doc's update event
 * carries, per client, exactly the structs from the old clock to the new
 * one, and merging keeps the lowest start, so this is never ahead of what a
 * client that missed `update` holds. Deletions are not in state vectors: a
 * diff against this vector carries the whole delete set anyway.
 */
export function stateVectorWithout(doc: Y.Doc, update: Uint8Array): Uint8Array {
  const { from } = Y.parseUpdateMeta(update);
  const vector = Y.decodeStateVector(Y.encodeStateVector(doc));
  for (const [client, clock] of from) if (clock < (vector.get(client) ?? 0)) vector.set(client, clock);
  return Y.encodeStateVector(vector);
}
