import * as awarenessProtocol from "y-protocols/awareness";
import * as Y from "yjs";
import { type FramedWindow, framedWindow } from "./frames";
import type { Page, PageClient } from "../pages/page";
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
  /** Of `updates`, those this replica's clients made: the peers need them, the rest they have. */
  forPeers: PeerShare;
  timer: NodeJS.Timeout | undefined;
}

/** A window's edits by this replica's clients, for its peers. */
interface PeerShare {
  updates: Uint8Array[];
  authors: Set<string>;
  edits: number;
}

/** A closed window on its way to a page's clients, a few hundred sockets per turn of the event loop. */
interface Delivery {
  page: Page;
  whole: FramedWindow;
  /** For the lone sender of the window's updates: the presence alone, or nothing. */
  presenceOnly: FramedWindow | undefined;
  spared: number | undefined;
  /** The page's clients when the window closed; one that joined later synced a state that holds the window. */
  clients: PageClient[];
  next: number;
  /** The window's update, then every update the page applied after it closed (see `stateVectorBefore`). */
  since: Uint8Array[];
  before: Uint8Array | undefined;
  presenceFlushesBefore: number;
  seconds: number;
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
  /** Sends a page's merged updates made by this replica's clients to its peers. */
  publishUpdates(page: Page, update: Uint8Array, authors: string[], edits: number): void;
  /** Measures one page's flush: clients reached, bytes of each message, time spent. */
  flushed?(clients: number, bytes: number, seconds: number): void;
  /** Socket writes per turn of the event loop before the rest of a fan-out yields (default 256). */
  writesPerTurn?: number;
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
 * window to the clients and one envelope per window to the peers. So are
 * the updates this replica's clients made, for the peers (and, relayed, the
 * other PoPs): one publish per page per window rather than one per turn of
 * the event loop. A profile of an edge at 500 edits/s (peers bench) spent a
 * quarter of its CPU writing the broker's socket, once per edit.
 */
export class Fanout {
  private readonly outboxes = new Map<Page, Outbox>();
  /** Closed windows not yet written to every client, oldest first (so a page's windows reach each client in order). */
  private readonly deliveries: Delivery[] = [];
  private delivering: NodeJS.Immediate | undefined;
  private stopped = false;

  constructor(private readonly options: FanoutOptions) {}

  /**
   * `senders`: the connections whose updates these are (none for a peer's,
   * the origin's, ...); `share`: who made it and how many edits it holds,
   * when the peers are to hear of it with this window.
   */
  update(page: Page, update: Uint8Array, senders: Iterable<number> | undefined, share?: { authors: Iterable<string>; edits: number }): void {
    if (this.stopped) return;
    // Windows of this page still on their way: a client that pauses on one
    // must be caught up from before it, and the doc has moved on since.
    for (const delivery of this.deliveries) if (delivery.page === page && delivery.before === undefined) delivery.since.push(update);
    const outbox = this.outbox(page);
    outbox.updates.push(update);
    outbox.bytes += update.byteLength;
    if (senders === undefined) outbox.senders.add(undefined);
    else for (const sender of senders) outbox.senders.add(sender);
    if (share) {
      outbox.forPeers.updates.push(update);
      for (const author of share.authors) outbox.forPeers.authors.add(author);
      outbox.forPeers.edits += share.edits;
    }
    if (outbox.bytes >= this.options.maxBytes) this.close(page);
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

  /** Sends what a page has waiting now, and every window still on its way, before returning (a page is evicted, a test). */
  flush(page: Page): void {
    this.close(page);
    this.deliverAll();
  }

  /**
   * Ends a page's window: merges and frames it, tells the peers of its
   * presence changes, and queues it for the page's clients. The writes
   * happen in setImmediate's phase, a few hundred per turn of the event
   * loop (`writesPerTurn`): an update applied in this turn (the tick's
   * transaction, TickBatcher) is acknowledged in microtasks before any of
   * it, and the acks of updates read while a fan-out to a thousand sockets
   * is under way wait for one slice of it, not for all of it
   * (weirwood_edge_read_to_ack_seconds shows that wait).
   */
  private close(page: Page): void {
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
    const { forPeers } = outbox;
    if (forPeers.updates.length > 0) {
      // Most windows hold only this replica's clients' updates: then the peers' merge is the clients'.
      const shared = forPeers.updates.length === outbox.updates.length ? update! : Y.mergeUpdates(forPeers.updates);
      this.options.publishUpdates(page, shared, [...forPeers.authors], forPeers.edits);
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
    const presenceFlushesBefore = page.presenceFlushes;
    if (presenceMessage) {
      // Counted at close; a client that pauses on this window is handed the count from before it.
      page.presenceFlushes += 1;
      if (outbox.awarenessHere.size > 0) {
        this.options.publishAwareness(page, awarenessProtocol.encodeAwarenessUpdate(page.awareness, [...outbox.awarenessHere]));
      }
    }
    this.deliveries.push({
      page,
      whole,
      presenceOnly,
      spared,
      clients: [...page.clients],
      next: 0,
      since: update ? [update] : [],
      // Without an update the doc's vector now is the one before the window,
      // until the page's next update (which `update()` then records).
      before: undefined,
      presenceFlushesBefore,
      seconds: (performance.now() - started) / 1000,
    });
    this.delivering ??= setImmediate(() => this.deliverSome());
  }

  /** One turn's share of the queued windows; the rest waits for the next turn, behind what the loop has read meanwhile. */
  private deliverSome(): void {
    this.delivering = undefined;
    this.deliver(this.options.writesPerTurn ?? 256);
    if (this.deliveries.length > 0) this.delivering = setImmediate(() => this.deliverSome());
  }

  private deliverAll(): void {
    if (this.delivering) clearImmediate(this.delivering);
    this.delivering = undefined;
    this.deliver(Number.POSITIVE_INFINITY);
  }

  private deliver(budget: number): void {
    let writes = 0;
    while (this.deliveries.length > 0 && writes < budget) {
      const delivery = this.deliveries[0]!;
      const started = performance.now();
      const stateVectorBefore = () => {
        delivery.before ??= delivery.since.length > 0 ? stateVectorWithout(delivery.page.doc, delivery.since) : Y.encodeStateVector(delivery.page.doc);
        return delivery.before;
      };
      const { clients, spared, whole, presenceOnly, presenceFlushesBefore } = delivery;
      while (delivery.next < clients.length && writes < budget) {
        const client = clients[delivery.next++]!;
        if (client.id !== spared) client.deliver(whole, stateVectorBefore, presenceFlushesBefore);
        else if (presenceOnly) client.deliver(presenceOnly, stateVectorBefore, presenceFlushesBefore);
        writes += 1;
      }
      delivery.seconds += (performance.now() - started) / 1000;
      if (delivery.next < clients.length) return;
      this.deliveries.shift();
      this.options.flushed?.(clients.length, whole.frames.byteLength, delivery.seconds);
    }
  }

  /** Sends what waits, then nothing more: the replica is stopping and its broker is about to close. */
  stop(): void {
    for (const page of [...this.outboxes.keys()]) this.close(page);
    this.deliverAll();
    this.stopped = true;
  }

  private outbox(page: Page): Outbox {
    let outbox = this.outboxes.get(page);
    if (!outbox) {
      outbox = {
        updates: [],
        bytes: 0,
        senders: new Set(),
        awareness: new Set(),
        awarenessHere: new Set(),
        forPeers: { updates: [], authors: new Set(), edits: 0 },
        timer: undefined,
      };
      this.outboxes.set(page, outbox);
    }
    return outbox;
  }

  private schedule(page: Page, outbox: Outbox): void {
    outbox.timer ??= setTimeout(() => this.close(page), this.windowOf(page));
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
 * The page's state vector as it was before `updates` (already applied, the
 * window's and those applied after it while it was on its way): for
 * each client the update touches, its first clock. A doc's update event
 * carries, per client, exactly the structs from the old clock to the new
 * one, and merging keeps the lowest start, so this is never ahead of what a
 * client that missed `update` holds. Deletions are not in state vectors: a
 * diff against this vector carries the whole delete set anyway.
 */
export function stateVectorWithout(doc: Y.Doc, updates: Uint8Array | readonly Uint8Array[]): Uint8Array {
  const vector = Y.decodeStateVector(Y.encodeStateVector(doc));
  for (const update of updates instanceof Uint8Array ? [updates] : updates) {
    const { from } = Y.parseUpdateMeta(update);
    for (const [client, clock] of from) if (clock < (vector.get(client) ?? 0)) vector.set(client, clock);
  }
  return Y.encodeStateVector(vector);
}
