import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import { parseSlug, SlugError } from "../common/slug";
import { secretMatches } from "../common/secret";
import { SigningKeysUnavailableError, TokenError, type TokenVerifier } from "./auth/verifier";
import { ClientConnection } from "./clients/connection";
import { queueOverflow } from "./clients/connection-host";
import { PageLimitError } from "./pages/documents";
import { answerPageRead, PAGE_READS_PREFIX, type PageReads } from "./reads/page-reads";
import { CloseCode } from "../protocol/close-codes";
import type { Replica } from "./replica";

export interface EdgeListener {
  readonly port: number;
  close(): Promise<void>;
}

/** Binds a TCP port for the edge before the replica exists, so that its URL can be announced. */
export async function listen(host: string, port: number): Promise<{ server: Server; port: number }> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return { server, port: (server.address() as AddressInfo).port };
}

/**
 * The replica's network face: WebSocket clients on `/<slug>?token=...`
 * (y-websocket's URL shape; `ext=weirwood` opts into acks), and
 * `/pages/<slug>` (page-reads.ts), `/healthz`, `/readyz`, `/metrics` over plain HTTP.
 */
export function serveReplica(
  server: Server,
  replica: Replica,
  verifier: TokenVerifier,
  options: {
    maxConnections: number;
    maxMessageBytes: number;
    ready: () => Promise<boolean>;
    /** POST /drain with the edge service secret: the operator's (and the tests') SIGTERM over HTTP. */
    drain: { secret: string; run: () => Promise<void> };
    pageReads: PageReads;
  },
): EdgeListener {
  // ws enforces its own frame limit before our handler sees the message; ours
  // (4413, with a reason) triggers first for anything up to twice the limit.
  // Beyond that ws closes with 1009 "Message Too Big" (RFC 6455) without
  // buffering the rest: a larger cap would let a client make us hold it.
  const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxMessageBytes * 2 });
  let nextId = 1;

  server.on("request", (request: IncomingMessage, response: ServerResponse) => {
    void answerHttp(request, response, replica, options);
  });

  server.on("upgrade", (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    wss.handleUpgrade(request, socket, head, (ws) => void accept(ws, request));
  });

  async function accept(ws: WebSocket, request: IncomingMessage): Promise<void> {
    // Before anything else: a socket error (an oversized frame, a reset)
    // with no listener would crash the whole process.
    ws.on("error", (error) => replica.log.debug({ err: error }, "client socket error"));
    // A client speaks first (sync step 1) as soon as the socket opens, while
    // its token is still being checked: keep what it says until then.
    const refuse = (code: number, reason: string) => ws.close(code, Buffer.from(reason).subarray(0, 123).toString());
    const early: [Buffer, boolean][] = [];
    let earlyBytes = 0;
    const keep = (data: Buffer, isBinary: boolean) => {
      early.push([data, isBinary]);
      earlyBytes += data.byteLength;
      // An honest client says two or three things before it hears back; a
      // stream of them while the token is checked is kept only so far.
      const overflow = queueOverflow(early.length, earlyBytes, replica.queueLimits, "before the token was checked");
      if (overflow) refuse(CloseCode.rateLimited, overflow);
    };
    ws.on("message", keep);
    const url = new URL(request.url ?? "/", "http://edge.invalid");
    if (replica.isDraining) return refuse(CloseCode.draining, "this replica is shutting down: reconnect to another replica of the PoP");
    if (replica.connectionCount >= options.maxConnections) {
      return refuse(CloseCode.overloaded, `this replica holds its limit of ${options.maxConnections} connections: try another`);
    }
    let slug;
    try {
      slug = parseSlug(decodeURIComponent(url.pathname.slice(1)));
    } catch (error) {
      const reason = error instanceof SlugError || error instanceof URIError ? error.message : "bad page in URL";
      return refuse(CloseCode.badPage, reason);
    }
    let identity;
    try {
      identity = await verifier.verify(url.searchParams.get("token") ?? "");
    } catch (error) {
      if (error instanceof TokenError) return refuse(CloseCode.unauthorized, error.message);
      if (error instanceof SigningKeysUnavailableError) {
        return refuse(CloseCode.overloaded, "the edge cannot check tokens now (origin keys unavailable): retry shortly");
      }
      throw error;
    }
    const blocked = replica.blockedReason(identity);
    if (blocked !== undefined) return refuse(CloseCode.blocked, blocked);
    ws.off("message", keep);
    // It may have hung up (or been refused for what it queued) while its token was checked.
    if (ws.readyState !== ws.OPEN) return;
    const client = new ClientConnection(nextId++, ws, identity, url.searchParams.get("ext") === "weirwood", replica);
    for (const [data, isBinary] of early) ws.emit("message", data, isBinary);
    replica.connected(client);
    try {
      const page = await replica.openPage(slug);
      // An admin deleted it (refused until undeleted), or it was moved (this is an old name):
      // codes stock clients do not reconnect on; the wiki's editor follows a move.
      const gone = replica.goneReason(page);
      if (gone !== undefined) return client.close(gone.code, gone.reason);
      client.attach(page);
    } catch (error) {
      const reason =
        error instanceof PageLimitError ? error.message : `page ${slug} is unavailable here now (${(error as Error).message}): retry shortly`;
      replica.log.warn({ err: error, slug }, "could not open a page for a client");
      client.close(CloseCode.overloaded, reason);
    }
  }

  return {
    get port() {
      return (server.address() as AddressInfo).port;
    },
    async close() {
      for (const ws of wss.clients) ws.close(CloseCode.draining, "this replica is shutting down: reconnect to another replica of the PoP");
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function answerHttp(
  request: IncomingMessage,
  response: ServerResponse,
  replica: Replica,
  options: { ready: () => Promise<boolean>; drain: { secret: string; run: () => Promise<void> }; pageReads: PageReads },
): Promise<void> {
  const path = new URL(request.url ?? "/", "http://edge.invalid").pathname;
  if (path.startsWith(PAGE_READS_PREFIX)) return answerPageRead(request, response, options.pageReads);
  const send = (status: number, body: string, type = "application/json") => {
    response.writeHead(status, { "content-type": type });
    response.end(body);
  };
  switch (path) {
    case "/healthz":
      return send(200, JSON.stringify({ ok: true, pop: replica.pop, replica: replica.replica }));
    case "/readyz": {
      const isReady = await options.ready().catch(() => false);
      return send(isReady ? 200 : 503, JSON.stringify({ ready: isReady, pop: replica.pop, replica: replica.replica, draining: replica.isDraining }));
    }
    case "/drain": {
      const presented = /^Bearer (.+)$/.exec(request.headers.authorization ?? "")?.[1] ?? "";
      if (request.method !== "POST" || !secretMatches(presented, options.drain.secret)) {
        return send(401, JSON.stringify({ error: "unauthorized", message: "POST /drain with `Authorization: Bearer <edge service secret>`" }));
      }
      send(202, JSON.stringify({ draining: true, replica: replica.replica }));
      await options.drain.run();
      return;
    }
    case "/metrics":
      return send(200, await replica.metrics.registry.metrics(), replica.metrics.registry.contentType);
    default:
      return send(404, JSON.stringify({ error: "not_found", message: "edges serve WebSockets on /<page slug>, and GET /pages/<slug>, /healthz, /readyz, /metrics" }));
  }
}
