import * as Y from "yjs";
import type { Logger } from "../../common/logger";
import type { Membership } from "../pop/membership";
import type { OriginClient } from "./origin-client";
import type { Page, UpdateOrigin } from "../pages/page";
import type { Peers } from "../pop/peers";
import { decodeEnvelope, ORIGIN_POP } from "../../protocol/envelope";
import { fromBase64 } from "../../protocol/flush";

/** Pulls after a page-changed, before giving up on one (about 15 flush intervals in all). */
const PULL_ATTEMPTS = 5;

export interface OriginFollowingDeps {
  pop: string;
  replica: string;
  origin: OriginClient;
  membership: Membership;
  peers: Peers;
  heldPage(slug: string): Page | undefined;
  /** A page still loading here, if any. */
  loadingPage(slug: string): Promise<Page> | undefined;
  apply(page: Page, update: Uint8Array, origin: UpdateOrigin): void;
  flushMs: number;
  log: Logger;
}

/**
 * How a replica keeps up with what the origin has: other PoPs' commits
 * (the origin's page-changed, pulled at once by the page's flusher here,
 * with retries), its own PoP's commits (a peer's `flushed`, which tells what
 * the origin now holds and so what is safe to call flushed), and asking the
 * page's flusher to hold it so that somebody here does the pulling.
 */
export class OriginFollowing {
  private stopped = false;

  constructor(private readonly deps: OriginFollowingDeps) {}

  stop(): void {
    this.stopped = true;
  }

  /** The origin announced commits: pull the pages another PoP changed. */
  pageChanged(data: Uint8Array): void {
    let envelope;
    try {
      envelope = decodeEnvelope(data);
    } catch {
      return;
    }
    if (envelope.type !== "page-changed" || envelope.pop === this.deps.pop) return;
    for (const slug of envelope.slugs) {
      const owns = this.deps.membership.owns(slug);
      // Another PoP's commit is the flusher's to take. A holder that does
      // not flush the page would only learn its protection, which no flush
      // changes: one origin request per commit and holder for nothing (in
      // 2 PoPs x 2 replicas, a third of the origin's requests).
      if (!owns && envelope.pop !== ORIGIN_POP) continue;
      const page = this.deps.heldPage(slug);
      if (page) {
        void this.pull(page, owns);
        continue;
      }
      // A page still loading may have read the origin before this commit:
      // pull once it is here, or it keeps the old text until its next edit
      // (no later notice comes for a page nobody edits again).
      void this.deps.loadingPage(slug)?.then(
        (loaded) => this.pull(loaded, owns),
        () => {},
      );
    }
  }

  /** A peer's flush of `page` was committed: the origin now holds `stateVector`. */
  peerFlushed(page: Page, stateVector: Uint8Array, revision: number): void {
    page.originVector = stateVector;
    page.revision = revision;
    if (!page.dirty) return;
    // Nothing here beyond what the origin acknowledged: this replica's
    // edits reached the flusher. Deletions do not show in a state vector;
    // anti-entropy carries any the flusher missed.
    const local = Y.decodeStateVector(Y.encodeStateVector(page.doc));
    const committed = Y.decodeStateVector(stateVector);
    for (const [client, clock] of local) if ((committed.get(client) ?? 0) < clock) return;
    page.markFlushed(page.dirtyGeneration);
    page.unflushedEdits = 0;
    page.unflushedBytes = 0;
    page.unflushedAuthors.clear();
  }

  /**
   * The replica that flushes a page must hold it: it is also the one that
   * takes the other PoPs' commits of it (pageChanged). When membership
   * moves a page to a replica that does not hold it (one that just joined,
   * say), nobody in the PoP would take those commits, and the PoP would
   * keep the page without them until its next edit there (seen in the
   * spike: a replica added mid-spike came to own a page it never held).
   */
  askFlusherToHold(page: Page): void {
    const owner = this.deps.membership.ownerOf(page.slug);
    if (owner === this.deps.replica || owner === page.flusherAsked) return;
    page.flusherAsked = owner;
    this.deps.peers.askToHold(owner, page.slug);
  }

  /**
   * Another PoP committed this page (or an admin changed its protection):
   * the flusher takes the new state now rather than at its next flush, and
   * after a protection change every holder takes the protection.
   */
  private async pull(page: Page, takeState: boolean, attempt = 1): Promise<void> {
    try {
      // Not the whole page again: fetching, parsing, checking and applying
      // it were 5% of an edge's CPU in bench:edge's profile. The flusher
      // asks for the state past the clocks it has compared with the
      // origin's copy: that is everything its check (takeFromOrigin) has
      // not seen, and everything the page lacks, since nothing is marked
      // compared beyond what the page holds. A holder that does not flush
      // the page takes only its protection, so it asks for the state past
      // its own: nearly nothing.
      const since = takeState ? Y.encodeStateVector(page.comparedWithOrigin) : Y.encodeStateVector(page.doc);
      const state = await this.deps.origin.pageState(page.slug, since);
      page.protection = state.protection;
      if (!takeState) return;
      page.claims.settle(state.claims ?? []);
      this.deps.apply(page, fromBase64(state.state), { kind: "origin" });
      page.originVector = fromBase64(state.stateVector);
    } catch (error) {
      // Retried: if the origin went away right after announcing, this PoP
      // would otherwise keep the old page until its own next flush of it,
      // which never comes when its editors moved on (seen in the spike with
      // the origin stopped for 10 s).
      if (attempt >= PULL_ATTEMPTS || this.deps.heldPage(page.slug) !== page || this.stopped) {
        this.deps.log.warn({ err: error, slug: page.slug, attempt }, "pull after an origin change failed; the next flush of the page will bring it");
        return;
      }
      const retry = setTimeout(() => void this.pull(page, takeState, attempt + 1), this.deps.flushMs * attempt);
      retry.unref();
    }
  }
}
