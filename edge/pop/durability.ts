import { randomUUID } from "node:crypto";
import * as Y from "yjs";
import { DurableWrites, type WriteDurably } from "./durable-writes";
import type { OriginClient } from "../origin-sync/origin-client";
import type { Page } from "../pages/page";
import { toBase64 } from "../../protocol/flush";
import type { DurabilityLevel } from "../../protocol/messages";

/** How a replica makes what its clients send durable before acknowledging it: one strategy per level. */
export interface Durability {
  /**
   * A client's update, in the page once `applied` resolves. Resolves with
   * the level reached once it, and everything the page took before it, is
   * durable; rejects when it could not be made so (the client is closed and
   * resends it).
   */
  update(page: Page, update: Uint8Array, author: string, applied: Promise<void>): Promise<DurabilityLevel>;
  /**
   * A client's update that changed nothing here: most often a resend after
   * a failed write, which the page already holds. Resolves once what the
   * page holds is durable, writing again what is not.
   */
  unchanged(page: Page): Promise<DurabilityLevel>;
  /**
   * Content that reached the page from a peer's memory, not known to be
   * durable; an origin commit of the page's `generation` (default: its
   * current one) or later covers it.
   */
  unverified(page: Page, update: Uint8Array, generation?: number): void;
}

/** `edge`: the update is in this replica's memory; acknowledge at once. */
export function inMemory(): Durability {
  return {
    update: async () => "edge",
    unchanged: async () => "edge",
    unverified: () => {},
  };
}

/** A level whose acknowledgements wait for `write`, and for every earlier write of the page. */
function tracked(level: DurabilityLevel, write: WriteDurably, trackPeers: boolean): Durability {
  const writes = new DurableWrites(write);
  return {
    update: (page, update, author, applied) => writes.add(page, update, author, applied).then(() => level),
    unchanged: (page) => writes.settle(page).then(() => level),
    unverified: (page, update, generation) => {
      if (trackPeers) writes.unverified(page, update, generation);
    },
  };
}

/**
 * `pop`: the update is in the PoP's durable log (a JetStream stream) before
 * it is acknowledged, so it outlives every replica of the PoP. The log entry
 * is also how the PoP's other replicas receive it, in log order. At `pop`,
 * peers send updates through the log, so what reaches a page from a peer's
 * memory otherwise (anti-entropy) is rare and is written to the log again
 * before the next acknowledgement of the page.
 */
export function inPopLog(append: WriteDurably): Durability {
  return tracked("pop", append, true);
}

/**
 * `origin`: write-through, the paper's "traditional architecture" and our
 * baseline: every update is its own origin transaction before it is
 * acknowledged. A replica sends one page's writes one at a time, in order,
 * as a traditional wiki serializes saves of a page: unbounded, a spike sent
 * thousands of concurrent transactions that queued on the page's row lock
 * and timed out, and the baseline acknowledged nothing at all (a livelock,
 * not a baseline). Peers' updates are not tracked: at `origin` each replica
 * writes its own clients' updates through, and every peer update would
 * otherwise be written twice.
 */
export function writeThrough(origin: OriginClient, pop: string, replica: string): Durability {
  const queues = new Map<string, Promise<unknown>>();
  const write: WriteDurably = (page, update, authors) => {
    const sent = (queues.get(page.slug) ?? Promise.resolve())
      .catch(() => {})
      .then(() =>
        origin.flush({
          batchId: `${replica}-wt-${randomUUID()}`,
          pop,
          edge: replica,
          pages: [
            { slug: page.slug, update: toBase64(update), stateVector: toBase64(Y.encodeStateVector(page.doc)), editCount: authors.length, authors },
          ],
        }),
      );
    queues.set(page.slug, sent);
    const settled = () => {
      if (queues.get(page.slug) === sent) queues.delete(page.slug);
    };
    sent.then(settled, settled);
    return sent.then(() => undefined);
  };
  return tracked("origin", write, false);
}
