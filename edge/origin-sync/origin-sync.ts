import type { Logger } from "../../common/logger";
import type { EdgeConfig } from "../config";
import type { EdgeMetrics } from "../metrics";
import type { UpdatePath } from "../pages/update-path";
import type { Membership } from "../pop/membership";
import { Flusher } from "./flusher";
import type { OriginClient } from "./origin-client";
import { OriginFollowing } from "./origin-following";

export interface OriginSyncDeps {
  config: EdgeConfig;
  origin: OriginClient;
  /** Who flushes a page (rendezvous hashing over the PoP's live members). */
  membership: Membership;
  /** The pages, and where what the origin sends them goes. */
  path: UpdatePath;
  metrics: EdgeMetrics;
  log: Logger;
}

/**
 * A replica's two conversations with the origin, wired to its pages: the
 * flusher sends the dirty pages it owns and applies what the origin
 * answers; the following pulls what other PoPs committed and keeps each
 * page held by its flusher. What the origin sends goes in through the
 * update path, screened against the page's client id claims.
 */
export function syncWithOrigin(deps: OriginSyncDeps): { flusher: Flusher; following: OriginFollowing } {
  const { config, origin, membership, path, metrics, log } = deps;
  const { pages, peers, screening } = path;
  const flusher = new Flusher({
    pop: config.pop,
    replica: config.replica,
    flushMs: config.flushMs,
    maxBatchBytes: config.flushMaxBytes,
    origin,
    membership,
    pages: () => pages.all(),
    applyFromOrigin: (page, missing, claims) => screening.applyFromOrigin(page, missing, claims),
    announceFlushed: (page, stateVector, revision) => peers.publishFlushed(page.slug, stateVector, revision),
    // The PoP log's entries up to a committed sequence are the origin's now.
    onCommitted: (page, sequence) => void path.popLog?.committed(page, sequence),
    metrics,
    log,
  });
  const following = new OriginFollowing({
    pop: config.pop,
    replica: config.replica,
    origin,
    membership,
    peers,
    heldPage: (slug) => pages.get(slug),
    loadingPage: (slug) => pages.loadingPage(slug),
    apply: (page, update, from) => path.applyFollowed(page, update, from),
    flushMs: config.flushMs,
    log,
  });
  return { flusher, following };
}
