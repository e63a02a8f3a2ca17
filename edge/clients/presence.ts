import * as awarenessProtocol from "y-protocols/awareness";
import { type AwarenessEntry, readAwarenessEntries, writeAwarenessEntries } from "../../protocol/awareness";
import { TokenBucket } from "./token-bucket";

export interface PresenceLimits {
  /** Awareness updates a connection may have applied per second, sustained. */
  ratePerSecond: number;
  /** ... and at once, after a pause. */
  burst: number;
  /** Bytes of one client's state (its JSON). */
  maxStateBytes: number;
}

/** What happened to one awareness update a client sent. */
export type PresenceResult = "applied" | "deferred" | "superseded";

/** A client's awareness state is over the size limit: the connection closes (CloseCode.presenceTooLarge). */
export class PresenceTooLargeError extends Error {
  override name = "PresenceTooLargeError";
  constructor(
    readonly clientId: number,
    readonly bytes: number,
    readonly limit: number,
  ) {
    super(`awareness state of client ${clientId} is ${bytes} bytes, over the limit of ${limit}: send a smaller presence (cursor, name)`);
  }
}

/**
 * One connection's awareness updates on their way into its page. An editor
 * moving its cursor sends an update per keystroke or click, and every
 * update fans out to every client of the page: with a thousand editors that
 * is what floods a hot page (y/hub's 9.6 s p95 with presence on). So each
 * connection has a token bucket; an update beyond it is not refused (a
 * cursor is not an edit, and a stock client would reconnect for ever) but
 * held, merged with what the connection sends next, newest state per client
 * id, and applied when the bucket allows. Only the newest position matters
 * for a cursor, so nothing a reader would see is lost; intermediate
 * positions are dropped (counted as "superseded").
 */
export class PresenceGate {
  private readonly bucket: TokenBucket;
  private readonly held = new Map<number, AwarenessEntry>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly limits: PresenceLimits,
    /** Applies an update to the page; may throw (malformed JSON): the caller closes the connection. */
    private readonly apply: (update: Uint8Array) => void,
    private readonly counted: (result: PresenceResult, updates: number) => void,
    now: () => number = Date.now,
  ) {
    this.bucket = new TokenBucket({ perSecond: limits.ratePerSecond, burst: limits.burst }, now);
  }

  /**
   * Takes one awareness update from the client: applies it now, or holds it
   * until the bucket refills. Throws PresenceTooLargeError, or a decoding
   * error for a malformed update, before anything is applied or held.
   */
  offer(update: Uint8Array): void {
    const entries = readAwarenessEntries(update);
    for (const entry of entries) {
      if (entry.state.byteLength > this.limits.maxStateBytes) {
        throw new PresenceTooLargeError(entry.clientId, entry.state.byteLength, this.limits.maxStateBytes);
      }
    }
    // While something is held, a newer update joins it, so updates apply in order.
    if (this.held.size === 0 && this.bucket.take() === 0) {
      this.apply(update);
      this.counted("applied", 1);
      return;
    }
    let superseded = 0;
    for (const entry of entries) {
      const previous = this.held.get(entry.clientId);
      if (previous && previous.clock > entry.clock) continue;
      if (previous) superseded += 1;
      this.held.set(entry.clientId, entry);
    }
    this.counted("deferred", 1);
    if (superseded > 0) this.counted("superseded", superseded);
    this.schedule();
  }

  /** The connection closed: what is held is dropped (its states are removed anyway). */
  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.held.clear();
  }

  private schedule(): void {
    if (this.timer) return;
    const waitMs = Math.max(1, this.bucket.untilNext());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.held.size === 0) return;
      if (this.bucket.take() !== 0) {
        this.schedule();
        return;
      }
      const update = writeAwarenessEntries(this.held.values());
      this.held.clear();
      this.apply(update);
      this.counted("applied", 1);
    }, waitMs);
  }
}

/**
 * Removes the presence of clients not renewed for `timeoutMs`, and answers
 * their ids. y-protocols' Awareness does this with a fixed 30 s
 * (`outdatedTimeout`); the edge does it itself so that the timeout is
 * configurable and one timer sweeps every page. Stock clients renew every
 * 15 s (half the timeout), so only a client that vanished without closing
 * (a crashed tab, a cut network) is removed. The removal is an awareness
 * change like any other: it fans out to the page's clients and the peers.
 */
export function removeOutdatedPresence(awareness: awarenessProtocol.Awareness, timeoutMs: number, now = Date.now()): number[] {
  const outdated: number[] = [];
  for (const [clientId, meta] of awareness.meta) {
    if (awareness.states.has(clientId) && now - meta.lastUpdated >= timeoutMs) outdated.push(clientId);
  }
  if (outdated.length > 0) awarenessProtocol.removeAwarenessStates(awareness, outdated, { kind: "timeout" });
  return outdated;
}
