import * as awarenessProtocol from "y-protocols/awareness";
import WebSocket from "ws";
import * as Y from "yjs";
import { writeAwarenessEntries } from "../../protocol/awareness";
import { decodeMessage, encodeMessage } from "../../protocol/messages";

const REMOTE = Symbol("remote");

/**
 * A bare y-websocket client for tests that need to misbehave in ways a
 * well-behaved provider never does: stop reading its socket (a slow
 * consumer), announce a presence and never renew it (a vanished tab), send
 * presence at any rate or size. It applies what the edge sends to a Y.Doc
 * and an Awareness of its own and sends nothing unless told to, except
 * its sync step 1 on open.
 */
export class RawClient {
  readonly doc = new Y.Doc();
  readonly text = this.doc.getText("body");
  /** What the edge told this client about everyone's presence. */
  readonly awareness = new awarenessProtocol.Awareness(this.doc);
  readonly received = { updates: 0, awareness: 0, bytes: 0 };
  /** The reasons of the edge's "permission denied" answers, in order. */
  readonly denied: string[] = [];
  /** The sequence numbers the edge acknowledged (with ext=weirwood). */
  readonly acked: number[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private constructor(private readonly socket: WebSocket) {
    // It has no presence of its own; the Awareness only mirrors the others.
    this.awareness.setLocalState(null);
    clearInterval(this.awareness._checkInterval);
    this.closed = new Promise((resolve) => socket.on("close", (code, reason) => resolve({ code, reason: reason.toString() })));
    socket.on("error", () => {});
    socket.on("message", (data: Buffer) => this.receive(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)));
  }

  static async connect(options: { url: string; slug: string; token: string; extensions?: boolean }): Promise<RawClient> {
    const query = new URLSearchParams({ token: options.token, ...(options.extensions ? { ext: "weirwood" } : {}) });
    const socket = new WebSocket(`${options.url}/${encodeURIComponent(options.slug)}?${query}`);
    const client = new RawClient(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once("open", () => resolve());
      socket.once("error", reject);
    });
    socket.send(encodeMessage({ type: "sync-step-1", stateVector: Y.encodeStateVector(client.doc) }));
    return client;
  }

  /** Announces a presence for `clientId` with `clock`, as y-protocols encodes it. */
  sendAwareness(clientId: number, clock: number, state: unknown): void {
    const update = writeAwarenessEntries([{ clientId, clock, state: new TextEncoder().encode(JSON.stringify(state)) }]);
    this.socket.send(encodeMessage({ type: "awareness", update }));
  }

  /** Sends a Yjs update of its own making, as an "update" (typing) or a "sync-step-2" (a reconnect's resend). */
  sendUpdate(update: Uint8Array, type: "update" | "sync-step-2" = "update"): void {
    this.socket.send(encodeMessage({ type, update }));
  }

  /** Stops reading the socket: the edge's sends pile up in its kernel buffers, then in its bufferedAmount. */
  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  close(): Promise<{ code: number; reason: string }> {
    this.socket.close();
    return this.closed;
  }

  terminate(): void {
    this.socket.terminate();
  }

  destroy(): void {
    this.socket.terminate();
    this.awareness.destroy();
    this.doc.destroy();
  }

  private receive(bytes: Uint8Array): void {
    this.received.bytes += bytes.byteLength;
    const message = decodeMessage(bytes);
    switch (message.type) {
      case "sync-step-2":
      case "update":
        this.received.updates += 1;
        Y.applyUpdate(this.doc, message.update, REMOTE);
        return;
      case "awareness":
        this.received.awareness += 1;
        awarenessProtocol.applyAwarenessUpdate(this.awareness, message.update, REMOTE);
        return;
      case "auth-denied":
        this.denied.push(message.reason);
        return;
      case "ack":
        this.acked.push(message.seq);
        return;
      default:
        // A sync step 1 asks for its edits: it has none to offer.
        return;
    }
  }
}
