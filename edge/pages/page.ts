import { Awareness } from "y-protocols/awareness";
import * as Y from "yjs";
import type { Slug } from "../../common/slug";
import type { FramedWindow } from "../clients/frames";
import type { ClientClaimList } from "../../protocol/envelope";
import { ClientClaims } from "./client-claims";
import type { ComparedClocks } from "../../common/client-structs";

/**
 * Where a change to a page's document came from. Every Yjs transaction on an
 * edge carries one (Hocuspocus does the same), so that what came from a peer
 * is not sent back to the peers, and what came from the origin is not
 * counted as unflushed.
 */
export type UpdateOrigin =
  /** Client updates applied in one transaction (tick-batch.ts): from which connections, by whom, how many. */
  | { kind: "client"; connections: Set<number>; authors: Set<string>; edits: number }
  | { kind: "peer"; authors: Set<string>; edits: number }
  | { kind: "origin" }
  | { kind: "relay" }
  /** Entries of the PoP's log, replayed or followed: how many. */
  | { kind: "log"; edits: number }
  | { kind: "load" };

export type Protection = "none" | "admin";

/** A client connection as a page sees it: something to send to. */
export interface PageClient {
  readonly id: number;
  /** Whether it has had an edit accepted on this connection (an editor, not a follower). */
  readonly edited: boolean;
  send(message: Uint8Array): void;
  /**
   * A coalesced fan-out window (its update and presence messages). A client
   * that fell behind skips it and later catches up from
   * `stateVectorBefore()`: what the page held before this window (computed
   * only when asked) and `presenceFlushesBefore`: the page's count of
   * presence flushes before this window (departures noted since then are
   * ones it did not hear of).
   */
  deliver(window: FramedWindow, stateVectorBefore: () => Uint8Array, presenceFlushesBefore: number): void;
}

/**
 * One page held by a replica: its Yjs document and awareness, who is
 * connected to it, and what has not reached the origin yet.
 */
export class Page {
  readonly doc = new Y.Doc({ gc: true });
  readonly awareness: Awareness;
  readonly clients = new Set<PageClient>();
  /** Which user each Yjs client id of the page belongs to (issue 18). */
  readonly claims = new ClientClaims();
  /** Clocks of each client id already compared with the origin's copy (`originConflicts`): compared once, they agree or not for good. */
  readonly comparedWithOrigin: ComparedClocks = new Map();
  protection: Protection;
  /**
   * Set while an admin has the page deleted: the close reason its
   * connections get (edge/auth/page-deletions.ts). Its edits are still
   * flushed; no connection is opened to it.
   */
  deleted: string | undefined = undefined;
  /**
   * Set when this name is an old name of a moved page: its name now. Its
   * connections are closed with 4411 naming it, and none is opened to it;
   * what it holds is still flushed (the origin merges it into the page).
   */
  movedTo: string | undefined = undefined;
  /** The origin's state vector as of its last acknowledged flush or load. */
  originVector: Uint8Array;
  /** Changes since the last acknowledged flush: edits and who typed them. */
  unflushedEdits = 0;
  readonly unflushedAuthors = new Set<string>();
  /** Bumped on every change that the origin does not have yet. */
  dirtyGeneration = 0;
  /** The dirtyGeneration the origin acknowledged. dirty = they differ. */
  flushedGeneration = 0;
  /** When the page last went from clean to dirty (0: clean). */
  dirtySince = 0;
  /** Approximate bytes of updates since the last acknowledged flush (memory bound). */
  unflushedBytes = 0;
  /** At `pop` durability: the newest log sequence applied to this page. */
  logSequence = 0n;
  lastActive = Date.now();
  revision = 0;
  /** The replica of this PoP last asked to hold this page as its flusher (see Replica.askFlushersToHold). */
  flusherAsked: string | undefined;
  /** Presence messages fanned out so far (fanout.ts counts them). */
  presenceFlushes = 0;
  /**
   * Each removed client's presence: the presence message it went out in
   * (`presenceFlushes` when it was removed) and when. y-protocols removes a
   * remote state without touching its clock or time, so a client that was
   * paused (slow-clients.ts) learns of departures it skipped from here.
   */
  private readonly departures = new Map<number, { flush: number; at: number }>();

  constructor(
    readonly slug: Slug,
    options: { protection: Protection; originVector: Uint8Array; revision: number },
  ) {
    this.awareness = new Awareness(this.doc);
    // The edge holds no presence of its own; y-protocols' Awareness starts
    // with a local state for the doc's own client id.
    this.awareness.setLocalState(null);
    // y-protocols removes states not renewed for a fixed 30 s, on one timer
    // per Awareness; the replica sweeps every page itself, with the
    // configured timeout (presence.ts, removeOutdatedPresence).
    clearInterval(this.awareness._checkInterval);
    this.protection = options.protection;
    this.originVector = options.originVector;
    this.revision = options.revision;
  }

  noteDepartures(clientIds: number[], at = Date.now()): void {
    for (const id of clientIds) this.departures.set(id, { flush: this.presenceFlushes, at });
  }

  /** Clients removed in presence message number `flush` + 1 or later, and not announced again. */
  departedSince(flush: number): number[] {
    const ids: number[] = [];
    for (const [id, departure] of this.departures) if (departure.flush >= flush && !this.awareness.states.has(id)) ids.push(id);
    return ids;
  }

  /** No paused client is older than `before`: departures from before it matter to nobody. */
  forgetDeparturesBefore(before: number): void {
    for (const [id, departure] of this.departures) if (departure.at < before) this.departures.delete(id);
  }

  get dirty(): boolean {
    return this.dirtyGeneration !== this.flushedGeneration;
  }

  /** Records a change the origin does not have yet. */
  markDirty(bytes: number, edits: number, authors: Iterable<string> = []): void {
    if (!this.dirty) this.dirtySince = Date.now();
    this.dirtyGeneration += 1;
    this.unflushedBytes += bytes;
    this.unflushedEdits += edits;
    for (const author of authors) if (author) this.unflushedAuthors.add(author);
  }

  /** The origin has everything up to `generation`. */
  markFlushed(generation: number): void {
    this.flushedGeneration = generation;
    if (!this.dirty) this.dirtySince = 0;
  }

  /** The claims of the client ids `update` has structs under: what travels with it to other replicas. */
  claimsOf(update: Uint8Array): ClientClaimList {
    if (this.claims.size === 0) return [];
    return this.claims.of(Y.parseUpdateMeta(update).from.keys());
  }

  /** What the flusher sends: the diff against the origin's last known state. */
  pendingUpdate(): Uint8Array {
    return Y.encodeStateAsUpdate(this.doc, this.originVector);
  }

  destroy(): void {
    this.awareness.destroy();
    this.doc.destroy();
  }
}
