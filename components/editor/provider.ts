import { applyAwarenessUpdate, encodeAwarenessUpdate, removeAwarenessStates } from "y-protocols/awareness";
import * as Y from "yjs";
import { CloseCode, closeCodeName } from "../../protocol/close-codes";
import { movedToOf } from "../../protocol/moved-page";
import { decodeMessage, Durability, type DurabilityLevel, encodeMessage, type Message, ProtocolError } from "../../protocol/messages";
import type { EdgeEndpoint } from "../edges";
import { CLOSE_EXPLANATIONS, isFatalClose } from "./close-reasons";
import { type EdgeProviderOptions, initialStatus, type ProviderStatus, type SentMessage } from "./provider-types";

/**
 * The browser's connection to an edge: the y-websocket protocol through
 * protocol/messages.ts, with Weirwood's opt-in extensions (`ext=weirwood`):
 * `session` (which PoP and replica, what we may do) and `ack` (an update
 * message reached a durability level).
 *
 * Counting: every sync-step-2 and update message this client sends on a
 * connection gets the next sequence number (1, 2, 3...); `ack` n names the
 * n-th. An edge applies a socket's messages in order, so an ack of n means
 * messages 1..n were applied. Local edits are numbered too; each message
 * records the newest edit it carries, so an ack tells which edits are safe.
 *
 * Nothing typed is lost on a reconnect: after a close, the next connection
 * (to another replica of the PoP) answers the edge's sync step 1 with a step 2
 * holding everything that replica lacks, and until that step 2 has been sent,
 * local edits are not sent one by one (an ack of an update sent before it
 * would not cover the edits that step 2 carries).
 */

export type { ConnectionPhase, EdgeProviderOptions, ProviderStatus } from "./provider-types";


// Messages awaiting a stronger acknowledgement; past this the oldest are forgotten.
const MAX_TRACKED_MESSAGES = 10_000;
const DEFAULT_BACKOFF = { initialMs: 250, maxMs: 10_000 };

export class EdgeProvider {
  private readonly options: EdgeProviderOptions;
  private readonly WebSocketImpl: typeof WebSocket;
  private readonly backoff: { initialMs: number; maxMs: number };
  private readonly now: () => number;
  private socket: WebSocket | undefined;
  private endpoint: EdgeEndpoint | undefined;
  private knownEdges: EdgeEndpoint[] = [];
  private pop: string | undefined;
  private status: ProviderStatus;
  private readonly listeners = new Set<(status: ProviderStatus) => void>();
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private connectTimer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;
  private connecting = false;
  private anonymous = false;

  // Edits: numbered locally; `acked[level]` is the newest edit known to have reached it.
  private lastEdit = 0;
  private readonly acked: Record<DurabilityLevel, number> = { edge: 0, pop: 0, origin: 0 };
  // The strongest level this edge has reported: sent messages are kept until it covers them.
  private strongestAck: DurabilityLevel = "edge";
  // Per connection.
  private seq = 0;
  private sent: SentMessage[] = [];
  private stepTwoSent = false;
  private stepOneReceived = false;
  private syncedWaiters: (() => void)[] = [];

  constructor(options: EdgeProviderOptions) {
    this.options = options;
    this.WebSocketImpl = options.WebSocketImpl ?? WebSocket;
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.now = options.now ?? Date.now;
    this.pop = options.pop;
    this.status = initialStatus(options.pop, options.readOnly === true);
    options.doc.on("update", this.onDocUpdate);
    options.awareness?.on("update", this.onAwarenessUpdate);
    void this.connect();
  }

  getStatus(): ProviderStatus {
    return this.status;
  }

  subscribe(listener: (status: ProviderStatus) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves once the current or next connection has the edge's document. */
  whenSynced(): Promise<void> {
    if (this.status.synced) return Promise.resolve();
    return new Promise((resolve) => this.syncedWaiters.push(resolve));
  }

  /** Moves to another PoP (the header's selector changed). */
  setPop(pop: string): void {
    if (pop === this.pop) return;
    this.pop = pop;
    this.update({ pop });
    this.dropSocket(1000, "PoP changed");
    this.reconnectNow();
  }

  /** Tries at once instead of waiting for the backoff (e.g. the browser is back online). */
  reconnectNow(): void {
    if (this.stopped || this.socket || this.connecting) return;
    clearTimeout(this.retryTimer);
    void this.connect();
  }

  destroy(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.connectTimer);
    const { awareness } = this.options;
    if (awareness && this.socket?.readyState === this.WebSocketImpl.OPEN) {
      // Tell the others we left, instead of letting our cursor linger 30 s.
      awareness.setLocalState(null);
    }
    this.options.doc.off("update", this.onDocUpdate);
    awareness?.off("update", this.onAwarenessUpdate);
    this.dropSocket(1000, "editor closed");
    this.update({ phase: "stopped" });
  }

  private async connect(): Promise<void> {
    if (this.stopped || this.connecting) return;
    this.connecting = true;
    this.update({ phase: this.status.phase === "offline" ? "offline" : "connecting" });
    try {
      const endpoint = await this.chooseEndpoint();
      if (!endpoint) {
        this.update({ problem: "no edge is available for this wiki" });
        this.scheduleRetry();
        return;
      }
      const token = await this.options.tokens.get();
      if (this.stopped) return;
      this.anonymous = token === null;
      const params = new URLSearchParams({ ext: "weirwood" });
      if (token) params.set("token", token);
      const url = `${endpoint.url.replace(/\/+$/u, "")}/${encodeURIComponent(this.options.slug)}?${params}`;
      this.endpoint = endpoint;
      this.openSocket(url, endpoint);
    } catch (error) {
      this.update({ problem: (error as Error).message });
      this.scheduleRetry();
    } finally {
      this.connecting = false;
    }
  }

  private async chooseEndpoint(): Promise<EdgeEndpoint | undefined> {
    try {
      this.knownEdges = await this.options.listEdges();
    } catch (error) {
      // The origin is unreachable: the edges we knew may still be up.
      this.options.log?.("listing edges failed; using the last list", error);
    }
    const inPop = this.knownEdges.filter((edge) => edge.pop === this.pop);
    const candidates = inPop.length > 0 ? inPop : this.knownEdges.filter((edge) => edge.pop === this.knownEdges[0]?.pop);
    if (candidates.length === 0) return undefined;
    // The replica after the one we last used: a replica that went away is tried last.
    const last = this.endpoint ? candidates.findIndex((edge) => edge.replica === this.endpoint?.replica) : -1;
    const start = last >= 0 ? last + 1 : Math.floor(Math.random() * candidates.length);
    return candidates[start % candidates.length];
  }

  private openSocket(url: string, endpoint: EdgeEndpoint): void {
    const socket = new this.WebSocketImpl(url);
    socket.binaryType = "arraybuffer";
    this.socket = socket;
    this.seq = 0;
    this.sent = [];
    this.stepTwoSent = false;
    this.stepOneReceived = false;
    this.update({ pop: endpoint.pop, replica: endpoint.replica, synced: false });
    this.connectTimer = setTimeout(() => {
      if (this.socket === socket && socket.readyState !== this.WebSocketImpl.OPEN) socket.close();
    }, this.options.connectTimeoutMs ?? 10_000);

    socket.onopen = () => {
      clearTimeout(this.connectTimer);
      if (this.socket !== socket) return;
      this.send({ type: "sync-step-1", stateVector: Y.encodeStateVector(this.options.doc) });
      const { awareness } = this.options;
      if (awareness?.getLocalState()) {
        this.send({ type: "awareness", update: encodeAwarenessUpdate(awareness, [awareness.clientID]) });
      }
      this.update({ phase: "connected", problem: undefined });
    };
    socket.onmessage = (event: MessageEvent) => {
      if (this.socket !== socket) return;
      const data = event.data as ArrayBuffer | string;
      if (typeof data === "string") {
        this.options.log?.("ignoring a text frame from the edge", data);
        return;
      }
      let message: Message;
      try {
        message = decodeMessage(new Uint8Array(data));
      } catch (error) {
        if (!(error instanceof ProtocolError)) throw error;
        this.options.log?.("ignoring a message this client cannot read", error.message);
        return;
      }
      this.handle(message);
    };
    socket.onclose = (event: CloseEvent) => {
      clearTimeout(this.connectTimer);
      if (this.socket !== socket) return;
      this.onClose(event.code, event.reason);
    };
  }

  private handle(message: Message): void {
    const { doc, awareness } = this.options;
    switch (message.type) {
      case "sync-step-1":
        this.stepOneReceived = true;
        if (!this.options.readOnly) this.sendDocument(Y.encodeStateAsUpdate(doc, message.stateVector), "sync-step-2");
        break;
      case "sync-step-2":
        Y.applyUpdate(doc, message.update, this);
        if (!this.stepOneReceived && !this.options.readOnly) {
          // An edge that never asked for our state: send all of it (idempotent).
          this.sendDocument(Y.encodeStateAsUpdate(doc), "update");
        }
        this.update({ synced: true, attempts: 0 });
        for (const resolve of this.syncedWaiters.splice(0)) resolve();
        break;
      case "update":
        Y.applyUpdate(doc, message.update, this);
        break;
      case "awareness":
        if (awareness) applyAwarenessUpdate(awareness, message.update, this);
        break;
      case "query-awareness":
        if (awareness) this.send({ type: "awareness", update: encodeAwarenessUpdate(awareness, [...awareness.getStates().keys()]) });
        break;
      case "auth-denied":
        this.update({ denied: message.reason, canWrite: false });
        break;
      case "ack":
        this.acknowledge(message.seq, message.durability);
        break;
      case "session":
        this.update({
          pop: message.pop,
          replica: message.replica,
          durability: message.durability,
          canWrite: this.options.readOnly ? false : message.canWrite,
          // A denial belongs to the connection that heard it: a draining
          // replica refuses the writes of its last moments, and the replica
          // the editor moves to may take them. A session that may write
          // supersedes it; one that may not keeps its reason.
          ...(message.canWrite ? { denied: undefined } : {}),
        });
        break;
      default:
        message satisfies never;
    }
  }

  private readonly onDocUpdate = (update: Uint8Array, origin: unknown): void => {
    if (origin === this || this.options.readOnly) return;
    this.lastEdit += 1;
    // Before our step 2 went out, that step 2 will carry this edit.
    if (this.stepTwoSent) this.sendDocument(update, "update");
    this.refreshCounts();
  };

  private readonly onAwarenessUpdate = (
    changes: { added: number[]; updated: number[]; removed: number[] },
    origin: unknown,
  ): void => {
    if (origin === this || !this.options.awareness) return;
    const changed = [...changes.added, ...changes.updated, ...changes.removed];
    this.send({ type: "awareness", update: encodeAwarenessUpdate(this.options.awareness, changed) });
  };

  /** Sends a sync-step-2 or update message and numbers it. */
  private sendDocument(update: Uint8Array, type: "sync-step-2" | "update"): void {
    if (!this.send({ type, update })) return;
    this.seq += 1;
    this.sent.push({ seq: this.seq, edit: this.lastEdit });
    if (type === "sync-step-2") this.stepTwoSent = true;
  }

  private acknowledge(seq: number, durability: DurabilityLevel): void {
    const message = this.sent.find((entry) => entry.seq === seq);
    if (!message) {
      this.options.log?.(`ack for message ${seq}, which this connection did not send (it sent ${this.seq})`);
      return;
    }
    const at = this.now();
    const acknowledgedAt = { ...this.status.acknowledgedAt };
    // Reaching a level implies every level below it.
    for (const level of ["edge", "pop", "origin"] as const) {
      if (Durability[level] > Durability[durability]) continue;
      this.acked[level] = Math.max(this.acked[level], message.edit);
      acknowledgedAt[level] = at;
    }
    if (Durability[durability] > Durability[this.strongestAck]) this.strongestAck = durability;
    const covered = this.acked[this.strongestAck];
    this.sent = this.sent.filter((entry) => entry.seq > seq || entry.edit > covered);
    if (this.sent.length > MAX_TRACKED_MESSAGES) this.sent.splice(0, this.sent.length - MAX_TRACKED_MESSAGES);
    this.update({ acknowledgedAt });
    this.refreshCounts();
  }

  private refreshCounts(): void {
    this.update({
      unacknowledgedEdits: this.lastEdit - this.acked.edge,
      uncommittedEdits: this.lastEdit - this.acked.origin,
    });
  }

  private send(message: Message): boolean {
    const socket = this.socket;
    if (!socket || socket.readyState !== this.WebSocketImpl.OPEN) return false;
    socket.send(encodeMessage(message) as Uint8Array<ArrayBuffer>);
    return true;
  }

  private onClose(code: number, reason: string): void {
    this.socket = undefined;
    const { awareness } = this.options;
    if (awareness) {
      const others = [...awareness.getStates().keys()].filter((client) => client !== awareness.clientID);
      removeAwarenessStates(awareness, others, this);
    }
    const explanation = CLOSE_EXPLANATIONS[code] ?? (reason || `connection closed (${code})`);
    const detail = reason && CLOSE_EXPLANATIONS[code] ? `${explanation}: ${reason}` : explanation;
    this.options.log?.(`edge closed the connection: ${closeCodeName(code) ?? code} ${reason}`);
    if (this.stopped) return;
    // Moved: the same document, under the page's new name. Whatever it had
    // not sent yet goes there with the next sync; the old name is refused.
    if (code === CloseCode.pageMoved && (movedToOf(reason) !== undefined || this.options.findMovedPage)) {
      void this.followMove(movedToOf(reason), detail);
      return;
    }
    if (code === CloseCode.unauthorized && this.anonymous) {
      // No session to trade for a token: trying again cannot help.
      this.update({ phase: "failed", synced: false, problem: "the edge admits only logged-in users: log in first" });
      return;
    }
    if (isFatalClose(code)) {
      this.update({ phase: "failed", synced: false, problem: detail });
      return;
    }
    this.update({ phase: "offline", synced: false, problem: detail });
    const tokenRefused = code === CloseCode.unauthorized || code === CloseCode.tokenExpired;
    if (tokenRefused) this.options.tokens.invalidate();
    const quick = code === CloseCode.draining || code === CloseCode.overloaded || tokenRefused;
    const floor = code === CloseCode.rateLimited ? 5_000 : 0;
    this.scheduleRetry({ quick, floor });
  }

  /** Follows a moved page under its new name: the close's (4411), or, when too long for it, the wiki's. */
  private async followMove(named: string | undefined, detail: string): Promise<void> {
    const from = this.options.slug;
    let to = named;
    if (to === undefined) {
      this.update({ phase: "offline", synced: false, problem: "the page was moved; asking the wiki for its new name" });
      to = await this.options.findMovedPage?.(from).catch(() => undefined);
      if (this.stopped) return;
    }
    if (to === undefined || to === from) return this.update({ phase: "failed", synced: false, problem: detail });
    this.options.slug = to;
    this.update({ phase: "offline", synced: false, movedTo: to, problem: `the page was moved to ${to}; following it` });
    this.scheduleRetry({ quick: true });
  }

  private scheduleRetry({ quick = false, floor = 0 }: { quick?: boolean; floor?: number } = {}): void {
    if (this.stopped) return;
    const attempts = this.status.attempts + 1;
    this.update({ attempts, phase: "offline", synced: false });
    // The first retry after a clean hand-over is immediate; then exponential with jitter.
    const exponential = Math.min(this.backoff.maxMs, this.backoff.initialMs * 2 ** Math.min(attempts - 1, 10));
    const delay = Math.max(floor, quick && attempts === 1 ? 0 : exponential * (0.5 + Math.random() / 2));
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => void this.connect(), delay);
  }

  private dropSocket(code: number, reason: string): void {
    const socket = this.socket;
    if (!socket) return;
    this.socket = undefined;
    socket.onopen = null;
    socket.onmessage = null;
    socket.onclose = null;
    socket.close(code, reason);
  }

  private update(change: Partial<ProviderStatus>): void {
    const next = { ...this.status, ...change };
    const changed = (Object.keys(change) as (keyof ProviderStatus)[]).some((key) => next[key] !== this.status[key]);
    if (!changed) return;
    this.status = next;
    for (const listener of this.listeners) listener(next);
  }
}
