import type { Logger } from "../../common/logger";
import type { DurabilityLevel } from "../../protocol/messages";
import type { Fanout } from "../clients/fanout";
import type { Durability } from "../pop/durability";
import type { Peers } from "../pop/peers";
import type { Page, UpdateOrigin } from "./page";

export interface UpdateRoutingDeps {
  durability: DurabilityLevel;
  crossPopRelay: boolean;
  fanout: Fanout;
  peers: Peers;
  /** The replica's durability strategy: read at each update, since it is chosen once the PoP log is open. */
  writes: () => Durability;
  log: Logger;
}

/**
 * Routes every change of a page's document and awareness by where it came
 * from (its typed origin), so that nothing is echoed to the peers or
 * stored twice.
 */
export function routeUpdates(page: Page, deps: UpdateRoutingDeps): void {
  const { fanout, peers } = deps;
  page.doc.on("update", (update: Uint8Array, origin: UpdateOrigin) => {
    page.lastActive = Date.now();
    // A client's update reaches the peers with the page's fan-out window
    // (shareWithPeers); what came from peers, the log or the origin is not shared again.
    const share = origin.kind === "client" ? { authors: origin.authors, edits: origin.edits } : undefined;
    fanout.update(page, update, origin.kind === "client" ? origin.connections : undefined, share);
    switch (origin.kind) {
      case "client":
        // At `origin` durability the write-through commit carries the edit count.
        page.markDirty(update.byteLength, deps.durability === "origin" ? 0 : origin.edits, origin.authors);
        break;
      case "peer":
        page.markDirty(update.byteLength, origin.edits, origin.authors);
        // From a peer's memory (anti-entropy, a drain): maybe there because its write failed.
        deps.writes().unverified(page, update);
        break;
      case "log":
        page.markDirty(update.byteLength, origin.edits);
        break;
      case "origin":
        toPeers(page, deps.log, () => peers.publishUpdate(page.slug, update, [], 0, page.claimsOf(update)));
        break;
      case "relay":
        // Shown to this replica's clients only: the PoP that accepted it
        // flushes it, and every replica here that holds the page heard the
        // same relay. Not dirty here, so that it costs no origin write.
        break;
      case "load":
        break;
      default:
        origin satisfies never;
    }
  });
  page.awareness.on("update", ({ added, updated, removed }: AwarenessChange, origin: unknown) => {
    // Peers hear of what changed here (clients, closes, timeouts), merged per window.
    const here = (origin as { kind?: string } | undefined)?.kind !== "peer";
    if (removed.length > 0) page.noteDepartures(removed);
    fanout.awareness(page, [...added, ...updated, ...removed], here);
  });
}

/**
 * A window's updates made by this replica's clients, merged (fanout.ts), to
 * the PoP's other replicas and, relayed, to the other PoPs. At `pop` the
 * PoP's log carries them to the peers instead, in order. Whose each client
 * id is travels with the structs (issue 18).
 */
export function shareWithPeers(page: Page, update: Uint8Array, authors: string[], edits: number, deps: Pick<UpdateRoutingDeps, "durability" | "crossPopRelay" | "peers" | "log">): void {
  const claims = page.claimsOf(update);
  if (deps.durability !== "pop") toPeers(page, deps.log, () => deps.peers.publishUpdate(page.slug, update, authors, edits, claims));
  if (deps.crossPopRelay) toPeers(page, deps.log, () => deps.peers.publishRelay(page.slug, update, claims));
}

/**
 * A publish the broker refuses (closed, or a merged update over its
 * payload limit) must not stop the rest: the update is applied and
 * acknowledged here, and anti-entropy brings it to the peers.
 */
function toPeers(page: Page, log: Logger, publish: () => void): void {
  try {
    publish();
  } catch (error) {
    log.warn({ err: error, slug: page.slug }, "could not publish an update to the peers; anti-entropy will carry it");
  }
}

interface AwarenessChange {
  added: number[];
  updated: number[];
  removed: number[];
}
