import type { EdgeMetrics } from "../metrics";
import type { Membership } from "../pop/membership";
import { hottestPages } from "./hot-pages";
import type { Page } from "./page";

/** Pages per replica in weirwood_edge_hot_page_clients: enough for a "hottest pages" list, bounded for Prometheus. */
const HOT_PAGES = 5;

/**
 * Sets a replica's page gauges (unflushed pages and bytes, those it flushes
 * itself, pages held, the hottest pages' clients) from the pages it holds.
 * Returns the unflushed bytes over all of them: the replica's capacity bound.
 */
export function measurePages(pages: Iterable<Page>, membership: Membership, metrics: EdgeMetrics): number {
  let dirty = 0;
  let bytes = 0;
  let ownedDirty = 0;
  let ownedBytes = 0;
  const held = [...pages];
  for (const page of held) {
    if (page.dirty) dirty += 1;
    bytes += page.unflushedBytes;
    // Every holder of a page counts its edits as unflushed; only its
    // flusher's count adds up to the PoP's figure without double counting.
    if (page.dirty && membership.owns(page.slug)) {
      ownedDirty += 1;
      ownedBytes += page.unflushedBytes;
    }
  }
  metrics.unflushedPages.set(dirty);
  metrics.unflushedBytes.set(bytes);
  metrics.ownedUnflushedPages.set(ownedDirty);
  metrics.ownedUnflushedBytes.set(ownedBytes);
  metrics.pagesHeld.set(held.length);
  metrics.hotPageClients.reset();
  for (const hot of hottestPages(held, HOT_PAGES)) {
    metrics.hotPageClients.set({ page: hot.slug, role: "editor" }, hot.editors);
    metrics.hotPageClients.set({ page: hot.slug, role: "follower" }, hot.followers);
  }
  return bytes;
}
