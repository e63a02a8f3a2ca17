import type { AddressInfo } from "node:net";
import { WebSocket as NodeWebSocket, WebSocketServer } from "ws";
import * as Y from "yjs";
import { CloseCode } from "../../protocol/close-codes";
import { type FlushBatch, fromBase64, pageStateSchema, toBase64 } from "../../protocol/flush";
import { decodeMessage, type DurabilityLevel, encodeMessage, type Message } from "../../protocol/messages";

/**
 * A stand-in for edge replicas: just enough of the wire protocol
 * (protocol/messages.ts) to drive the browser's provider and the wiki
 * UI before (and besides) the real edge: session, sync, per-message acks,
 * fan-out, awareness relay, and a flush to the origin on demand.
 *
 * Replicas sharing a hub share one document per page and fan out to each
 * other's clients (replicas of one wiki). A replica with its own hub keeps
 * its own documents: when it dies, what it was not acknowledged for is gone
 * with it, the worst case for a client.
 */
export class FakeEdgeHub {
  readonly docs = new Map<string, Y.Doc>();
  readonly sockets = new Map<NodeWebSocket, string>();
  /** Where a page's document comes from the first time (e.g. the origin's state). */
  load: (slug: string) => Promise<Uint8Array | undefined> = async () => undefined;
  private readonly loading = new Map<string, Promise<Y.Doc>>();

  docOf(slug: string): Promise<Y.Doc> {
    const held = this.docs.get(slug);
    if (held) return Promise.resolve(held);
    let loading = this.loading.get(slug);
    if (!loading) {
      loading = this.load(slug).then((state) => {
        const doc = new Y.Doc();
        if (state) Y.applyUpdate(doc, state);
        this.docs.set(slug, doc);
        return doc;
      });
      this.loading.set(slug, loading);
    }
    return loading;
  }

  text(slug: string): string {
    return this.docs.get(slug)?.getText("body").toString() ?? "";
  }

  broadcast(slug: string, from: NodeWebSocket, message: Message): void {
    const bytes = encodeMessage(message);
    for (const [socket, page] of this.sockets) {
      if (socket !== from && page === slug && socket.readyState === NodeWebSocket.OPEN) socket.send(bytes);
    }
  }

  /** Changes a page as another writer would, and sends the change to its clients. */
  async change(slug: string, edit: (body: Y.Text) => void): Promise<void> {
    const doc = await this.docOf(slug);
    const before = Y.encodeStateVector(doc);
    edit(doc.getText("body"));
    const update = Y.encodeStateAsUpdate(doc, before);
    for (const [socket, page] of this.sockets) {
      if (page === slug && socket.readyState === NodeWebSocket.OPEN) socket.send(encodeMessage({ type: "update", update }));
    }
  }

  /** Flushes every page to the origin as an edge would (POST /api/internal/flush), once. */
  async flushTo(originUrl: string, secret: string, pop = "us-east"): Promise<void> {
    const pages = [...this.docs].map(([slug, doc]) => ({
      slug,
      update: toBase64(Y.encodeStateAsUpdate(doc)),
      stateVector: toBase64(Y.encodeStateVector(doc)),
      editCount: 1,
      authors: ["fake-edge"],
    }));
    const batch: FlushBatch = { batchId: `fake-${pop}-${Date.now()}-${Math.random().toString(36).slice(2)}`, pop, edge: `${pop}-fake`, pages };
    const response = await fetch(`${originUrl}/api/internal/flush`, {
      method: "POST",
      headers: { authorization: `Bearer ${secret}`, "content-type": "application/json" },
      body: JSON.stringify(batch),
    });
    if (!response.ok) throw new Error(`fake edge: flush answered ${response.status}: ${await response.text()}`);
  }
}

/** Loads pages from the origin's internal state endpoint, as an edge bootstraps a page. */
export function loadFromOrigin(originUrl: string, secret: string): (slug: string) => Promise<Uint8Array | undefined> {
  return async (slug) => {
    const response = await fetch(`${originUrl}/api/internal/pages/${encodeURIComponent(slug)}/state`, {
      headers: { authorization: `Bearer ${secret}` },
    });
    if (!response.ok) throw new Error(`fake edge: page state answered ${response.status}`);
    return fromBase64(pageStateSchema.parse(await response.json()).state);
  };
}

export interface FakeEndpoint {
  pop: string;
  replica: string;
  url: string;
}

export class FakeReplica {
  readonly received: { slug: string; token: string | null; messages: Message[] }[] = [];
  acknowledge: DurabilityLevel | false = "edge";
  refuseToken: (token: string | null) => boolean = () => false;
  denyWrites: string | undefined;
  endpoint!: FakeEndpoint;
  private server: WebSocketServer | undefined;
  private readonly own = new Set<NodeWebSocket>();

  constructor(
    readonly pop: string,
    readonly replica: string,
    readonly hub: FakeEdgeHub = new FakeEdgeHub(),
  ) {}

  async start(): Promise<this> {
    const server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    await new Promise<void>((resolve) => server.once("listening", resolve));
    this.server = server;
    this.endpoint = { pop: this.pop, replica: this.replica, url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}` };
    server.on("connection", (socket, request) => void this.accept(socket, new URL(request.url ?? "/", "ws://fake")));
    return this;
  }

  private async accept(socket: NodeWebSocket, url: URL): Promise<void> {
    const slug = decodeURIComponent(url.pathname.slice(1));
    const token = url.searchParams.get("token");
    if (this.refuseToken(token)) {
      socket.close(CloseCode.unauthorized, "token expired");
      return;
    }
    const connection = { slug, token, messages: [] as Message[] };
    this.received.push(connection);
    // Messages that arrive while the page loads wait, in order.
    const early: Message[] = [];
    const loaded: { doc?: Y.Doc } = {};
    socket.on("message", (data: Buffer) => {
      const message = decodeMessage(new Uint8Array(data));
      connection.messages.push(message);
      if (loaded.doc) handle(message);
      else early.push(message);
    });
    socket.on("close", () => {
      this.own.delete(socket);
      this.hub.sockets.delete(socket);
    });
    const page = await this.hub.docOf(slug);
    this.own.add(socket);
    this.hub.sockets.set(socket, slug);
    const send = (message: Message) => socket.readyState === NodeWebSocket.OPEN && socket.send(encodeMessage(message));
    let seq = 0;
    const handle = (message: Message) => {
      switch (message.type) {
        case "sync-step-1":
          send({ type: "sync-step-2", update: Y.encodeStateAsUpdate(page, message.stateVector) });
          break;
        case "sync-step-2":
        case "update":
          seq += 1;
          if (this.denyWrites) {
            send({ type: "auth-denied", reason: this.denyWrites });
            break;
          }
          Y.applyUpdate(page, message.update);
          if (this.acknowledge) send({ type: "ack", seq, durability: this.acknowledge });
          this.hub.broadcast(slug, socket, { type: "update", update: message.update });
          break;
        case "awareness":
          this.hub.broadcast(slug, socket, message);
          break;
        default:
          break;
      }
    };
    loaded.doc = page;
    send({ type: "session", pop: this.pop, replica: this.replica, durability: "edge", role: "editor", canWrite: !this.denyWrites });
    send({ type: "sync-step-1", stateVector: Y.encodeStateVector(page) });
    for (const message of early.splice(0)) handle(message);
  }

  /** Closes every client socket with `code`, the replica staying up (as an edge does for an expired token). */
  closeClients(code: number, reason: string): void {
    for (const socket of this.own) socket.close(code, reason);
  }

  /** Stops the replica, closing its clients with `code` (draining) or abruptly. */
  async stop(code: number | "abrupt" = CloseCode.draining): Promise<void> {
    for (const socket of this.own) {
      if (code === "abrupt") socket.terminate();
      else socket.close(code, "replica stopping");
    }
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = undefined;
  }

  text(slug: string): string {
    return this.hub.text(slug);
  }
}
