import * as awarenessProtocol from "y-protocols/awareness";
import WebSocket from "ws";
import * as Y from "yjs";
import { decodeMessage, type DurabilityLevel, encodeMessage, type Message } from "../../protocol/messages";

const REMOTE = Symbol("remote");

export interface Ack {
  seq: number;
  durability: DurabilityLevel;
  /** Milliseconds from sending the update to its acknowledgement. */
  latencyMs: number;
}

interface Pending {
  sentAt: number;
  resolve(ack: Ack): void;
  reject(error: Error): void;
}

/**
 * A protocol-level editor: a Yjs document connected to an edge over the
 * y-websocket protocol with Weirwood's acknowledgements. The load generator
 * and the integration tests type through it; it speaks exactly what the
 * browser's provider speaks, with no browser.
 */
export class ProtocolEditor {
  readonly doc = new Y.Doc();
  readonly text = this.doc.getText("body");
  readonly awareness = new awarenessProtocol.Awareness(this.doc);
  /** Reasons of the y-protocols "permission denied" messages received. */
  readonly denied: string[] = [];
  session: Extract<Message, { type: "session" }> | undefined;
  readonly synced: Promise<void>;
  readonly closed: Promise<{ code: number; reason: string }>;
  /**
   * Messages from the edge so far, by kind: the fan-out this editor saw.
   * Counted whether or not they are applied (see `follow`).
   */
  readonly received = { updates: 0, awareness: 0, bytes: 0 };
  private readonly socket: WebSocket;
  private readonly follow: boolean;
  private sent = 0;
  private readonly pending = new Map<number, Pending>();
  private markSynced!: () => void;

  private constructor(url: string, follow: boolean) {
    this.follow = follow;
    this.synced = new Promise((resolve) => (this.markSynced = resolve));
    this.socket = new WebSocket(url);
    this.socket.binaryType = "nodebuffer";
    this.closed = new Promise((resolve) => {
      this.socket.on("close", (code, reason) => {
        const closing = { code, reason: reason.toString() };
        for (const pending of this.pending.values()) pending.reject(new Error(`closed ${code} ${closing.reason} before the ack`));
        this.pending.clear();
        resolve(closing);
      });
    });
    this.socket.on("error", () => {});
    this.socket.on("open", () => this.send({ type: "sync-step-1", stateVector: Y.encodeStateVector(this.doc) }));
    this.socket.on("message", (data: Buffer) => this.receive(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)));
    this.doc.on("update", (update: Uint8Array, origin: unknown) => {
      if (origin !== REMOTE) this.sendUpdate({ type: "update", update });
    });
    this.awareness.on("update", ({ added, updated, removed }: { added: number[]; updated: number[]; removed: number[] }, origin: unknown) => {
      if (origin === REMOTE) return;
      const update = awarenessProtocol.encodeAwarenessUpdate(this.awareness, [...added, ...updated, ...removed]);
      this.send({ type: "awareness", update });
    });
  }

  /**
   * `follow: false` makes an editor that counts the other editors' updates
   * and awareness but does not apply them (its document holds the page as
   * of its sync plus its own edits): the edge's fan-out work is the same, but
   * a load generator can then drive a thousand editors of one hot page
   * without spending a core on applying every co-editor's keystroke a
   * thousand times. Its inserts stay valid Yjs updates, positioned against
   * what it has, as an offline client's are.
   */
  static connect(options: { url: string; slug: string; token: string; acks?: boolean; follow?: boolean }): ProtocolEditor {
    const query = new URLSearchParams({ token: options.token });
    if (options.acks !== false) query.set("ext", "weirwood");
    return new ProtocolEditor(`${options.url}/${encodeURIComponent(options.slug)}?${query}`, options.follow !== false);
  }

  /** Inserts `content` at `index` and resolves when the edge acknowledged it. */
  insert(index: number, content: string): Promise<Ack> {
    return this.change(() => this.text.insert(Math.min(index, this.text.length), content));
  }

  delete(index: number, length: number): Promise<Ack> {
    return this.change(() => this.text.delete(index, length));
  }

  /** Makes a local change; its update is the next numbered message. */
  change(edit: () => void): Promise<Ack> {
    const seq = this.sent + 1;
    const acked = new Promise<Ack>((resolve, reject) => this.pending.set(seq, { sentAt: performance.now(), resolve, reject }));
    edit();
    if (this.sent < seq) {
      this.pending.delete(seq);
      return Promise.reject(new Error("the edit changed nothing, so nothing was sent"));
    }
    return acked;
  }

  /** Sends raw bytes, as a broken or hostile client would. */
  sendRaw(bytes: Uint8Array): void {
    this.socket.send(bytes);
  }

  get isOpen(): boolean {
    return this.socket.readyState === WebSocket.OPEN;
  }

  close(): Promise<{ code: number; reason: string }> {
    this.socket.close();
    return this.closed;
  }

  /** Stops without a close handshake, as a crashed client does. */
  terminate(): void {
    this.socket.terminate();
  }

  private sendUpdate(message: Extract<Message, { type: "update" | "sync-step-2" }>): void {
    this.sent += 1;
    this.send(message);
  }

  private send(message: Message): void {
    if (this.socket.readyState === WebSocket.OPEN) this.socket.send(encodeMessage(message));
  }

  private receive(bytes: Uint8Array): void {
    this.received.bytes += bytes.byteLength;
    const message = decodeMessage(bytes);
    switch (message.type) {
      case "sync-step-1":
        this.sendUpdate({ type: "sync-step-2", update: Y.encodeStateAsUpdate(this.doc, message.stateVector) });
        return;
      case "sync-step-2":
        Y.applyUpdate(this.doc, message.update, REMOTE);
        this.markSynced();
        return;
      case "update":
        this.received.updates += 1;
        if (this.follow) Y.applyUpdate(this.doc, message.update, REMOTE);
        return;
      case "awareness":
        this.received.awareness += 1;
        if (this.follow) awarenessProtocol.applyAwarenessUpdate(this.awareness, message.update, REMOTE);
        return;
      case "auth-denied":
        this.denied.push(message.reason);
        return;
      case "ack": {
        const pending = this.pending.get(message.seq);
        if (!pending) return;
        this.pending.delete(message.seq);
        pending.resolve({ seq: message.seq, durability: message.durability, latencyMs: performance.now() - pending.sentAt });
        return;
      }
      case "session":
        this.session = message;
        return;
      case "query-awareness":
        return;
      default:
        message satisfies never;
    }
  }
}
