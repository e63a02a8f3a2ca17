import { CloseCode } from "../../protocol/close-codes";

export interface SlowClientLimits {
  /** A client whose socket holds more than this stops getting fan-out messages. */
  pauseBytes: number;
  /** A client whose socket holds more than this is closed. */
  closeBytes: number;
  /** A client paused for longer than this is closed. */
  behindMs: number;
  /** Over this many bytes buffered for all clients of the replica, clients pause at a quarter of `pauseBytes`. */
  totalBytes: number;
}

/** A client connection as the slow-client watch sees it. */
export interface WatchedClient {
  readonly id: number;
  /** Bytes the socket holds, not yet handed to the kernel (ws `bufferedAmount`). */
  readonly bufferedBytes: number;
  /** Since when (epoch ms) it has been paused, or undefined while it is not. */
  readonly behindSince: number | undefined;
  readonly isClosed: boolean;
  /** Sends one merged catch-up and resumes its fan-out. */
  catchUp(): void;
  close(code: number, reason: string): void;
}

export interface SlowClientEvents {
  paused(): void;
  caughtUp(): void;
  closed(): void;
  /**
   * Every check: clients paused now, bytes buffered for all clients, and the
   * most any paused client holds (the bound a paused client keeps: a client
   * that reads may hold one large message for a moment, a catch-up or a
   * sync answer, and that is the total's business, not the pause's).
   */
  measured(paused: number, bufferedBytes: number, mostHeldWhilePaused: number): void;
}

/**
 * Keeps slow clients from growing the edge's memory. A client whose socket
 * falls behind (bufferedAmount over `pauseBytes`) is paused: fan-out skips
 * it, and it remembers the page's state vector from before the first
 * message it skipped (connection.ts). This watch checks the paused clients
 * every `checkMs`: once one's socket has drained below half the pause
 * threshold it gets one merged catch-up (the diff against that state
 * vector, plus the page's presence) and resumes; one still paused after
 * `behindMs` is closed (4508). So a paused client costs the edge a state
 * vector, not a queue, and the bytes held for it never pass `pauseBytes`
 * plus one message (the acks of its own edits aside, bounded by
 * `closeBytes`).
 */
export class SlowClients {
  private readonly paused = new Set<WatchedClient>();
  private timer: NodeJS.Timeout | undefined;
  private overBudget = false;

  constructor(
    private readonly limits: SlowClientLimits,
    private readonly clients: () => Iterable<WatchedClient>,
    private readonly events: SlowClientEvents,
    private readonly checkMs = 50,
    private readonly now: () => number = Date.now,
  ) {}

  /** The bytes over which a client pauses now: lower while the replica as a whole holds too much. */
  get pauseBytes(): number {
    return this.overBudget ? Math.floor(this.limits.pauseBytes / 4) : this.limits.pauseBytes;
  }

  get closeBytes(): number {
    return this.limits.closeBytes;
  }

  start(): void {
    this.timer ??= setInterval(() => this.check(), this.checkMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.paused.clear();
  }

  /** A client just paused (connection.ts decided it). */
  fellBehind(client: WatchedClient): void {
    this.paused.add(client);
    this.events.paused();
  }

  /** One pass: resume the drained, close the hopeless, and measure the whole. */
  check(): void {
    const now = this.now();
    for (const client of this.paused) {
      if (client.isClosed || client.behindSince === undefined) {
        this.paused.delete(client);
        continue;
      }
      if (client.bufferedBytes <= this.pauseBytes / 2) {
        this.paused.delete(client);
        client.catchUp();
        this.events.caughtUp();
      } else if (now - client.behindSince > this.limits.behindMs) {
        this.paused.delete(client);
        client.close(
          CloseCode.tooSlow,
          `behind for over ${this.limits.behindMs} ms (${client.bufferedBytes} bytes unread): reconnect to resync`,
        );
        this.events.closed();
      }
    }
    let total = 0;
    for (const client of this.clients()) total += client.bufferedBytes;
    this.overBudget = total > this.limits.totalBytes;
    let mostHeld = 0;
    for (const client of this.paused) mostHeld = Math.max(mostHeld, client.bufferedBytes);
    this.events.measured(this.paused.size, total, mostHeld);
  }
}
