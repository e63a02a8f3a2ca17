import * as Y from "yjs";
import type { Logger } from "../../common/logger";
import type { Flusher } from "../origin-sync/flusher";
import type { PageRegistry } from "../pages/documents";
import type { TickBatcher } from "../pages/tick-batch";
import type { Membership } from "./membership";
import type { Peers } from "./peers";

export interface DrainDeps {
  batch: TickBatcher;
  membership: Membership;
  peers: Peers;
  pages: PageRegistry;
  flusher: Flusher;
  drainTimeoutMs: number;
  log: Logger;
}

/**
 * A replica leaving its PoP (once it stopped taking edits): it tells the
 * members, hands every page it holds to its peers, and flushes what it owed
 * the origin, until `drainTimeoutMs`.
 */
export async function handOverAndFlush(deps: DrainDeps): Promise<void> {
  const { pages } = deps;
  deps.batch.flush();
  await deps.membership.leave("draining");
  for (const page of pages.all()) {
    deps.peers.publishUpdate(page.slug, Y.encodeStateAsUpdate(page.doc), [], 0, page.claims.all());
  }
  // What this replica owes the origin is what it held when it stopped
  // taking edits. Its peers' edits that keep arriving are theirs to flush
  // (they are still running): waiting for a page to be clean would hold a
  // replica draining until the deadline while others type on its pages.
  const owed = [...pages.all()].filter((page) => page.dirty).map((page) => ({ page, generation: page.dirtyGeneration }));
  const pending = () => owed.filter(({ page, generation }) => page.flushedGeneration < generation);
  const deadline = Date.now() + deps.drainTimeoutMs;
  while (Date.now() < deadline && pending().length > 0) {
    try {
      await deps.flusher.flush("all");
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  const unflushed = pending().map(({ page }) => page.slug);
  if (unflushed.length > 0) {
    deps.log.warn({ unflushed }, "drain: pages still unflushed at the deadline; the PoP's peers (and its log at pop) hold them");
  }
}
