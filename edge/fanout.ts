import * as awarenessProtocol from "y-protocols/awareness";
import * as Y from "yjs";
import type { Page } from "./page";
import { encodeMessage } from "./protocol/messages";

/** What one page has waiting for its clients in the current window. */
interface Outbox {
  updates: Uint8Array[];
  bytes: number;
  /** The connections whose own updates these are; when only one, it is spared its echo. */
  senders: Set<number | undefined>;
  awareness: Set<number>;
  timer: NodeJS.Timeout | undefined;
}

/**
 * Coalesced fan-out to a page's clients. Acknowledging an edit costs tens of
 * microseconds; sending it to 200 co-editors one by one costs far more, and
 * an edge that sends every update to every client at once spends its core
 * on sends and acknowledges late. So updates (and awareness changes) of a
 * page are merged over a short window (`windowMs`, or sooner when `maxBytes`
 * pile up) and each client gets one message per window, whatever the edit
 * rate. Merged Yjs updates apply like the originals (Y.mergeUpdates).
 */
export class Fanout {
  private readonly outboxes = new Map<Page, Outbox>();

  constructor(private readonly options: { windowMs: number; maxBytes: number }) {}

  update(page: Page, update: Uint8Array, sender: number | undefined): void {
    const outbox = this.outbox(page);
    outbox.updates.push(update);
    outbox.bytes += update.byteLength;
    outbox.senders.add(sender);
    if (outbox.bytes >= this.options.maxBytes) this.flush(page);
    else this.schedule(page, outbox);
  }

  awareness(page: Page, clientIds: number[]): void {
    const outbox = this.outbox(page);
    for (const id of clientIds) outbox.awareness.add(id);
    this.schedule(page, outbox);
  }

  /** Sends what a page has waiting now (also before a page is evicted or the replica stops). */
  flush(page: Page): void {
    const outbox = this.outboxes.get(page);
    if (!outbox) return;
    this.outboxes.delete(page);
    clearTimeout(outbox.timer);
    if (outbox.updates.length > 0) {
      const update = outbox.updates.length === 1 ? outbox.updates[0]! : Y.mergeUpdates(outbox.updates);
      const message = encodeMessage({ type: "update", update });
      const spared = outbox.senders.size === 1 ? [...outbox.senders][0] : undefined;
      for (const client of page.clients) if (client.id !== spared) client.send(message);
    }
    if (outbox.awareness.size > 0) {
      const update = awarenessProtocol.encodeAwarenessUpdate(page.awareness, [...outbox.awareness]);
      const message = encodeMessage({ type: "awareness", update });
      for (const client of page.clients) client.send(message);
    }
  }

  flushAll(): void {
    for (const page of [...this.outboxes.keys()]) this.flush(page);
  }

  private outbox(page: Page): Outbox {
    let outbox = this.outboxes.get(page);
    if (!outbox) {
      outbox = { updates: [], bytes: 0, senders: new Set(), awareness: new Set(), timer: undefined };
      this.outboxes.set(page, outbox);
    }
    return outbox;
  }

  private schedule(page: Page, outbox: Outbox): void {
    outbox.timer ??= setTimeout(() => this.flush(page), this.options.windowMs);
  }
}
