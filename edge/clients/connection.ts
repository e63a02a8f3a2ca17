import * as awarenessProtocol from "y-protocols/awareness";
import type { WebSocket } from "ws";
import * as Y from "yjs";
import { type FramedWindow, writeMessage, writeWindow } from "./frames";
import type { Page, PageClient } from "../pages/page";
import { PresenceGate, PresenceTooLargeError } from "./presence";
import { CloseCode } from "../../protocol/close-codes";
import { TokenBucket } from "./token-bucket";
import { decodeMessage, type DurabilityLevel, encodeMessage, type Message, ProtocolError } from "../../protocol/messages";
import type { Identity } from "../../protocol/token";
import type { WatchedClient } from "./slow-clients";
import { type ConnectionHost, queueOverflow } from "./connection-host";
import { judgeWrite } from "./write-verdict";

/** A pause in holding back shorter than this does not end a flood (see `holdBack`). */
const FLOOD_BREAK_MS = 1000;

/**
 * One client's WebSocket on one page: the y-websocket protocol, write
 * checks (judged in write-verdict.ts), and Weirwood's opt-in acknowledgements. Messages that arrive while
 * the page is still loading, or while the user is over its edit rate, wait
 * in order.
 */
export class ClientConnection implements PageClient, WatchedClient {
  private page: Page | undefined;
  /** Messages received and not handled yet, in order, with when each was read: the page is loading, or the first is held back by the edit rate. */
  private readonly waiting: { bytes: Uint8Array; readAt: number }[] = [];
  private waitingBytes = 0;
  /**
   * Its sync steps 1 and awareness queries (undefined: not limited): each
   * makes the edge encode the page, or everyone's presence, for the asker.
   */
  private readonly reads: TokenBucket | undefined;
  /** Set while the edit rate holds this connection back: the socket is paused until it fires. */
  private resumeTimer: NodeJS.Timeout | undefined;
  /** When the current flood began (holds with less than FLOOD_BREAK_MS between them), and when the last hold ended. */
  private floodSince: number | undefined;
  private lastHoldEnd = Number.NEGATIVE_INFINITY;
  /** Update messages (sync step 2 and update) received, numbered from 1: the ack's `seq`. */
  private updateSeq = 0;
  /** Awareness client ids this connection has announced, removed when it closes. */
  readonly awarenessIds = new Set<number>();
  private closing = false;
  /** It typed (an update message accepted): the ops view counts it as an editor, not a follower. */
  edited = false;
  /** Acks are sent in order even when durability steps finish out of order. */
  private ackChain: Promise<void> = Promise.resolve();
  private readonly presence: PresenceGate;
  /**
   * Set while the client is paused for falling behind: fan-out skips it,
   * and its catch-up is the page's diff against this state vector.
   */
  private behind: { stateVector: Uint8Array; since: number; presenceFlushes: number } | undefined;

  constructor(
    readonly id: number,
    private readonly socket: WebSocket,
    readonly identity: Identity,
    readonly extensions: boolean,
    private readonly host: ConnectionHost,
  ) {
    socket.on("message", (data: Buffer, isBinary: boolean) => this.receive(data, isBinary));
    socket.on("close", () => this.onClose());
    socket.on("error", (error) => host.log.debug({ err: error, client: id }, "client socket error"));
    this.reads = host.readLimits ? new TokenBucket(host.readLimits) : undefined;
    this.presence = new PresenceGate(
      host.presenceLimits,
      (update) => this.applyAwareness(update),
      (result, updates) => host.recordPresence(result, updates),
    );
  }

  get bufferedBytes(): number {
    return this.socket.bufferedAmount;
  }

  get behindSince(): number | undefined {
    return this.behind?.since;
  }

  get isClosed(): boolean {
    return this.closing;
  }

  get currentPage(): Page | undefined {
    return this.page;
  }

  get user(): string {
    return this.identity.name;
  }

  /** The page is loaded: greet the client as a y-websocket server does, then handle what waited. */
  attach(page: Page): void {
    if (this.closing) return;
    this.page = page;
    page.clients.add(this);
    if (this.extensions) {
      this.send(
        encodeMessage({
          type: "session",
          pop: this.host.pop,
          replica: this.host.replica,
          durability: this.host.durability,
          role: this.identity.role,
          canWrite: this.host.refusal(this.identity, page) === undefined,
        }),
      );
    }
    this.send(encodeMessage({ type: "sync-step-1", stateVector: Y.encodeStateVector(page.doc) }));
    const states = [...page.awareness.getStates().keys()];
    if (states.length > 0) {
      this.send(encodeMessage({ type: "awareness", update: awarenessProtocol.encodeAwarenessUpdate(page.awareness, states) }));
    }
    this.handleWaiting();
  }

  /** A message for this client alone (a handshake, a sync answer, an ack): sent unless the socket is hopelessly behind. */
  send(message: Uint8Array): void {
    if (this.closing || this.socket.readyState !== this.socket.OPEN) return;
    if (this.socket.bufferedAmount > this.host.slowClients.closeBytes) {
      this.close(CloseCode.tooSlow, `the client fell ${this.socket.bufferedAmount} bytes behind; reconnect to resync`);
      return;
    }
    writeMessage(this.socket, message);
  }

  deliver(window: FramedWindow, stateVectorBefore: () => Uint8Array, presenceFlushesBefore: number): void {
    if (this.behind || this.closing || this.socket.readyState !== this.socket.OPEN) return;
    if (this.socket.bufferedAmount > this.host.slowClients.pauseBytes) {
      // Queueing more would grow the edge's memory with every window; a
      // state vector is all it takes to catch the client up later.
      this.behind = { stateVector: stateVectorBefore(), since: Date.now(), presenceFlushes: presenceFlushesBefore };
      this.host.slowClients.fellBehind(this);
      return;
    }
    writeWindow(this.socket, window);
  }

  /** The socket drained: one merged diff for everything skipped, the presence that changed meanwhile, then fan-out again. */
  catchUp(): void {
    const page = this.page;
    const behind = this.behind;
    this.behind = undefined;
    if (!page || !behind || this.closing || this.socket.readyState !== this.socket.OPEN) return;
    // Straight to the socket: the diff can be as large as the page, past the
    // close bound, and it is the one message that makes the client whole.
    writeMessage(this.socket, encodeMessage({ type: "update", update: Y.encodeStateAsUpdate(page.doc, behind.stateVector) }));
    // Present clients, and those removed while it was paused (their null
    // state, or it would show their cursors until its own 30 s timeout).
    const ids = [...page.awareness.states.keys(), ...page.departedSince(behind.presenceFlushes)];
    if (ids.length > 0) writeMessage(this.socket, encodeMessage({ type: "awareness", update: awarenessProtocol.encodeAwarenessUpdate(page.awareness, ids) }));
  }

  close(code: number, reason: string): void {
    if (this.closing) return;
    this.closing = true;
    clearTimeout(this.resumeTimer);
    this.resumeTimer = undefined;
    // Read again, or the client's answering close frame is never read and
    // it hears of the close only at its own timeout (ws: 30 s); what it
    // sent meanwhile is ignored (`receive`) and resent on reconnect.
    if (this.socket.isPaused) this.socket.resume();
    // Close reasons are limited to 123 bytes by RFC 6455.
    this.socket.close(code, Buffer.from(reason).subarray(0, 123).toString());
  }

  private receive(data: Buffer, isBinary: boolean): void {
    if (this.closing) return;
    if (!isBinary) {
      this.close(CloseCode.badMessage, "text frames are not part of the protocol: send binary y-websocket messages");
      return;
    }
    if (data.byteLength > this.host.maxMessageBytes) {
      this.host.recordEdit("refused");
      this.close(CloseCode.messageTooLarge, `message of ${data.byteLength} bytes exceeds the limit of ${this.host.maxMessageBytes}`);
      return;
    }
    const readAt = performance.now();
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    // Order matters (an awareness update after an edit, a sync step after
    // both): while anything waits, what comes next waits behind it.
    if (!this.page || this.waiting.length > 0) {
      this.queue(bytes, readAt);
      return;
    }
    if (this.handle(bytes, readAt) === "held") this.queue(bytes, readAt);
  }

  /**
   * Keeps a message for later (the page loads, an edit is held back). While
   * held back the socket is paused, but what a client sends while its page
   * loads has no such brake: past the queue's bounds it is closed, with a
   * code stock clients reconnect on (its edits are in its document and go
   * again as one sync step 2).
   */
  private queue(bytes: Uint8Array, readAt: number): void {
    this.waiting.push({ bytes, readAt });
    this.waitingBytes += bytes.byteLength;
    const overflow = queueOverflow(this.waiting.length, this.waitingBytes, this.host.queueLimits, this.page ? "behind a held message" : "while the page loads");
    if (overflow) this.close(CloseCode.rateLimited, overflow);
  }

  /** Handles what waited, in order, until the edit rate holds one back again. */
  private handleWaiting(): void {
    while (this.waiting.length > 0 && this.page && !this.closing && !this.resumeTimer) {
      const { bytes, readAt } = this.waiting[0]!;
      if (this.handle(bytes, readAt) === "held") return;
      this.waitingBytes -= this.waiting.shift()!.bytes.byteLength;
    }
  }

  /** "held" when the edit rate holds the message back: it must be handled again, unchanged, later. */
  private handle(bytes: Uint8Array, readAt: number): "handled" | "held" {
    const page = this.page;
    if (!page || this.closing) return "handled";
    let message: Message;
    try {
      message = decodeMessage(bytes);
    } catch (error) {
      this.close(CloseCode.badMessage, (error as Error).message);
      return "handled";
    }
    page.lastActive = Date.now();
    try {
      const waitMs = this.dispatch(page, message, readAt);
      if (waitMs === undefined) return "handled";
      this.holdBack(waitMs);
      return "held";
    } catch (error) {
      if (!(error instanceof ProtocolError)) this.host.log.warn({ err: error, client: this.id }, "client message failed");
      this.close(CloseCode.badMessage, (error as Error).message);
      return "handled";
    }
  }

  /**
   * The user is over its edit rate: stop reading the socket (TCP
   * back-pressure slows the sender down, and the edge holds no more than
   * what it had already read) and try the held message again once the
   * bucket has refilled. A burst is delayed, not dropped. Only a flood that
   * goes on without a break for `floodCloseMs` is closed, with a code stock
   * clients reconnect on; their reconnect sends everything held as one
   * sync step 2, which the rate counts as one edit.
   */
  private holdBack(waitMs: number): void {
    const now = Date.now();
    if (this.floodSince === undefined || now - this.lastHoldEnd > FLOOD_BREAK_MS) this.floodSince = now;
    if (now - this.floodSince > this.host.floodCloseMs) {
      this.close(
        CloseCode.rateLimited,
        `over the ${this.heldRate} rate for ${now - this.floodSince} ms without a break: reconnect; your unsent edits go as one`,
      );
      return;
    }
    this.socket.pause();
    this.resumeTimer = setTimeout(() => {
      this.resumeTimer = undefined;
      this.lastHoldEnd = Date.now();
      this.handleWaiting();
      if (!this.resumeTimer && !this.closing) this.socket.resume();
    }, waitMs);
  }

  /** Which rate held the last message back: the edit rate (updates) or the read rate (sync steps 1, awareness queries). */
  private heldRate: "edit" | "read" = "edit";

  private heldBy(rate: "edit" | "read", waitMs: number): number {
    this.heldRate = rate;
    return waitMs;
  }

  /** Answers the milliseconds to wait when the edit or read rate holds the message back, else undefined. */
  private dispatch(page: Page, message: Message, readAt: number): number | undefined {
    switch (message.type) {
      case "sync-step-1": {
        const waitMs = this.reads?.take() ?? 0;
        if (waitMs > 0) return this.heldBy("read", waitMs);
        this.send(encodeMessage({ type: "sync-step-2", update: Y.encodeStateAsUpdate(page.doc, message.stateVector) }));
        return;
      }
      case "sync-step-2":
      case "update":
        // A sync step 2 is what every client sends on connect (usually
        // empty); only an "update" is someone typing.
        return this.write(page, message.update, message.type === "update", readAt);
      case "awareness":
        this.offerAwareness(message.update);
        return;
      case "query-awareness": {
        const waitMs = this.reads?.take() ?? 0;
        if (waitMs > 0) return this.heldBy("read", waitMs);
        const ids = [...page.awareness.getStates().keys()];
        this.send(encodeMessage({ type: "awareness", update: awarenessProtocol.encodeAwarenessUpdate(page.awareness, ids) }));
        return;
      }
      case "auth-denied":
      case "ack":
      case "session":
        throw new ProtocolError(`a client may not send a ${message.type} message`);
      default:
        message satisfies never;
    }
  }

  private write(page: Page, sent: Uint8Array, typed: boolean, readAt: number): number | undefined {
    const received = performance.now();
    const verdict = judgeWrite(this.host, { page, identity: this.identity, sent, typed, awarenessIds: this.awarenessIds });
    switch (verdict.kind) {
      case "unchanged":
        this.acknowledge(++this.updateSeq, this.host.unchangedUpdate(page), readAt);
        return;
      case "denied":
        ++this.updateSeq;
        this.host.recordEdit("refused");
        this.send(encodeMessage({ type: "auth-denied", reason: verdict.reason }));
        return;
      case "close":
        this.host.recordEdit("refused");
        this.close(verdict.code, verdict.reason);
        return;
      case "held":
        return this.heldBy("edit", verdict.waitMs);
      case "apply":
        break;
      default:
        verdict satisfies never;
    }
    const seq = ++this.updateSeq;
    const durable = this.host.applyClientUpdate(page, verdict.update, this);
    this.acknowledge(
      seq,
      durable.then((level) => {
        if (typed) this.edited = true;
        this.host.recordEdit("accepted", level, (performance.now() - received) / 1000);
        return level;
      }),
      readAt,
    );
  }

  private offerAwareness(update: Uint8Array): void {
    try {
      this.presence.offer(update);
    } catch (error) {
      if (error instanceof PresenceTooLargeError) {
        this.close(CloseCode.presenceTooLarge, error.message);
        return;
      }
      throw new ProtocolError(`awareness update is not valid (${(error as Error).message})`, { cause: error });
    }
  }

  /** Applies an awareness update now, or from the presence gate's timer (where a throw would crash the process). */
  private applyAwareness(update: Uint8Array): void {
    const page = this.page;
    if (!page || this.closing) return;
    try {
      this.host.applyClientAwareness(page, update, this);
    } catch (error) {
      this.close(CloseCode.badMessage, `awareness update is not valid (${(error as Error).message})`);
    }
  }

  private acknowledge(seq: number, durable: Promise<DurabilityLevel>, readAt: number): void {
    // The chain reaches this promise only after the earlier acks: mark it
    // handled now, or its rejection meanwhile is "unhandled" and kills the
    // process (seen at `origin` durability with the origin dropping sockets).
    durable.catch(() => {});
    this.ackChain = this.ackChain
      .then(() => durable)
      .then(
        (durability) => {
          if (!this.extensions) return;
          this.send(encodeMessage({ type: "ack", seq, durability }));
          // send() skips (or closes) a socket that is gone or hopelessly behind: then no ack was written.
          if (!this.closing) this.host.recordAckWritten(durability, (performance.now() - readAt) / 1000);
        },
        (error: unknown) => {
          this.host.log.warn({ err: error, client: this.id, seq }, "an update could not be made durable; closing so the client resends it");
          this.close(CloseCode.overloaded, `update ${seq} could not be made durable: reconnect to resend it`);
        },
      );
  }

  private onClose(): void {
    this.closing = true;
    clearTimeout(this.resumeTimer);
    this.resumeTimer = undefined;
    this.presence.stop();
    this.page?.clients.delete(this);
    this.host.closed(this);
  }
}
