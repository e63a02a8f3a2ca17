import { randomUUID } from "node:crypto";
import * as Y from "yjs";
import type { DurableLog } from "./broker/broker";
import type { OriginClient } from "./origin-client";
import type { Page } from "./page";
import { encodeEnvelope } from "./protocol/envelope";
import { toBase64 } from "./protocol/flush";
import type { DurabilityLevel } from "./protocol/messages";
import { subjects } from "./protocol/subjects";

/** Makes one applied client update durable to the configured level. */
export type MakeDurable = (page: Page, update: Uint8Array, author: string) => Promise<DurabilityLevel>;

/** `edge`: the update is in this replica's memory; acknowledge at once. */
export function inMemory(): MakeDurable {
  return async () => "edge";
}

/**
 * `pop`: the update is in the PoP's durable log (a JetStream stream) before
 * it is acknowledged, so it outlives every replica of the PoP. The log entry
 * is also how the PoP's other replicas receive it, in log order.
 */
export function inPopLog(log: DurableLog, pop: string, replica: string): MakeDurable {
  return async (page, update, author) => {
    // page.logSequence is advanced by the log follower, in log order, not
    // here: a purge below our own sequence could drop an earlier entry of
    // another replica that this one has not applied yet.
    await log.append(subjects.logPage(pop, page.slug), encodeEnvelope({ type: "update", replica, slug: page.slug, update, edits: 1, authors: [author] }));
    return "pop";
  };
}

/**
 * `origin`: write-through, the paper's "traditional architecture" and our
 * baseline: every update is its own origin transaction before it is
 * acknowledged. A replica sends one page's writes one at a time, in order,
 * as a traditional wiki serializes saves of a page: unbounded, a spike sent
 * thousands of concurrent transactions that queued on the page's row lock
 * and timed out, and the baseline acknowledged nothing at all (a livelock,
 * not a baseline).
 */
export function writeThrough(origin: OriginClient, pop: string, replica: string): MakeDurable {
  const queues = new Map<string, Promise<unknown>>();
  return (page, update, author) => {
    const write = (queues.get(page.slug) ?? Promise.resolve())
      .catch(() => {})
      .then(() =>
        origin.flush({
          batchId: `${replica}-wt-${randomUUID()}`,
          pop,
          edge: replica,
          pages: [
            { slug: page.slug, update: toBase64(update), stateVector: toBase64(Y.encodeStateVector(page.doc)), editCount: 1, authors: [author] },
          ],
        }),
      );
    queues.set(page.slug, write);
    const settled = () => {
      if (queues.get(page.slug) === write) queues.delete(page.slug);
    };
    write.then(settled, settled);
    return write.then(() => "origin" as const);
  };
}
