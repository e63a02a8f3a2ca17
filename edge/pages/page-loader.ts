import * as Y from "yjs";
import type { Logger } from "../../common/logger";
import type { Slug } from "../../common/slug";
import { deletedPageMessage } from "../../protocol/deletions";
import { fromBase64 } from "../../protocol/flush";
import { fitCloseReason } from "../auth/blocks";
import type { PageDeletions } from "../auth/page-deletions";
import type { EdgeMetrics } from "../metrics";
import type { OriginClient } from "../origin-sync/origin-client";
import type { OriginFollowing } from "../origin-sync/origin-following";
import type { Durability } from "../pop/durability";
import type { Peers } from "../pop/peers";
import type { PopLog } from "../pop/pop-log";
import { Page, type UpdateOrigin } from "./page";

export interface PageLoaderDeps {
  bootstrapTimeoutMs: number;
  peers: Peers;
  origin: OriginClient;
  following: OriginFollowing;
  deletions: PageDeletions;
  /** The replica's durability strategy and PoP log: both set once the log is open (at `pop`). */
  writes: () => Durability;
  popLog: () => PopLog | undefined;
  /** Hooks the loaded page's changes up to where they go next (update-routing.ts). */
  route: (page: Page) => void;
  metrics: EdgeMetrics;
  log: Logger;
}

/**
 * Loads a page a replica does not hold: from the PoP's replicas first
 * (only holders answer, so an unheld page costs one "no responders"), then
 * the origin, then, when the origin does not answer, the PoP log.
 */
export class PageLoader {
  constructor(private readonly deps: PageLoaderDeps) {}

  async load(slug: Slug): Promise<Page> {
    const { deps } = this;
    const fromPeers = await deps.peers.bootstrap(slug, deps.bootstrapTimeoutMs);
    let page: Page;
    if (fromPeers) {
      page = new Page(slug, { protection: fromPeers.protection, originVector: fromPeers.originVector, revision: fromPeers.revision });
      page.claims.learn(fromPeers.claims);
      Y.applyUpdate(page.doc, fromPeers.update, { kind: "load" } satisfies UpdateOrigin);
      // What the peer held beyond the origin may be there because its own
      // log append failed: written again before an ack here relies on it
      // (once, shared), unless a flush of a later change covers it first.
      // Deletions alone do not show here, as in OriginFollowing.peerFlushed.
      const beyondOrigin = Y.encodeStateAsUpdate(page.doc, page.originVector);
      if (Y.parseUpdateMeta(beyondOrigin).to.size > 0) deps.writes().unverified(page, beyondOrigin, page.dirtyGeneration + 1);
      deps.metrics.bootstraps.inc({ source: "peer" });
      // A peer's answer does not say whether an admin deleted the page.
      void deps.deletions.check(page);
    } else {
      const state = await this.stateFromOriginOrLog(slug);
      page = new Page(slug, { protection: state.protection, originVector: state.originVector, revision: state.revision });
      if (state.source === "origin" && state.deleted) page.deleted = fitCloseReason(deletedPageMessage(state.deleted.reason));
      if (state.source === "origin" && state.movedTo) page.movedTo = state.movedTo;
      // Rebuilt from the PoP log, the flag is unknown: ask as after a peer's bootstrap.
      if (state.source === "log") void deps.deletions.check(page);
      if (state.source === "origin") page.claims.settle(state.claims);
      else page.claims.learn(state.claims);
      Y.applyUpdate(page.doc, state.state, { kind: "load" } satisfies UpdateOrigin);
      deps.metrics.bootstraps.inc({ source: state.source });
    }
    deps.route(page);
    deps.peers.attach(page);
    // The page's flusher in this PoP must hear its updates: ask it to hold it.
    deps.following.askFlusherToHold(page);
    if (fromPeers) deps.peers.pull(page);
    await deps.popLog()?.replayPage(page);
    return page;
  }

  /** The page from the origin or, when the origin does not answer, from the PoP log's checkpoints (at `pop`). */
  private async stateFromOriginOrLog(slug: Slug) {
    try {
      const state = await this.deps.origin.pageState(slug);
      return {
        source: "origin" as const,
        state: fromBase64(state.state),
        protection: state.protection,
        deleted: state.deleted ?? null,
        movedTo: state.movedTo ?? null,
        originVector: fromBase64(state.stateVector),
        revision: state.revision,
        claims: state.claims ?? [],
      };
    } catch (error) {
      const logged = await this.deps.popLog()?.loggedPage(slug);
      if (!logged) throw error;
      this.deps.log.info({ slug, err: error }, "origin unavailable: page rebuilt from the PoP log");
      return { source: "log" as const, ...logged };
    }
  }
}
