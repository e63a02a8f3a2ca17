import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import type { Origin } from "../runtime";
import { PEER_HEADER } from "./client";
import { routeOriginRequest } from "./router";

/**
 * Serves the origin's API (router.ts) on a plain node:http server, without
 * Next.js: for integration tests and tools that need a real origin over HTTP
 * in a second.
 */
export async function serveOrigin(origin: Origin, options: { host?: string; port?: number } = {}): Promise<{ url: string; server: Server; close(): Promise<void> }> {
  const host = options.host ?? "127.0.0.1";
  const server = createServer((incoming, outgoing) => void handle(origin, host, incoming, outgoing));
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    server,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function handle(origin: Origin, host: string, incoming: IncomingMessage, outgoing: ServerResponse): Promise<void> {
  try {
    const hasBody = incoming.method !== "GET" && incoming.method !== "HEAD";
    // Handlers see no socket: hand them its address, replacing any a client sent.
    incoming.headers[PEER_HEADER] = incoming.socket.remoteAddress ?? "";
    const request = new Request(`http://${incoming.headers.host ?? host}${incoming.url ?? "/"}`, {
      method: incoming.method,
      headers: Object.entries(incoming.headers).flatMap(([name, value]) =>
        value === undefined ? [] : (Array.isArray(value) ? value : [value]).map((v) => [name, v] as [string, string]),
      ),
      body: hasBody ? (Readable.toWeb(incoming) as ReadableStream<Uint8Array>) : undefined,
      // @ts-expect-error Node's fetch needs `duplex` for a streamed body; the DOM types lack it.
      duplex: hasBody ? "half" : undefined,
    });
    const response = await routeOriginRequest(origin, request);
    // A body refused unread (413) leaves the rest of it on the socket: close
    // it, or the client's next request on it waits seconds for a timeout.
    if (hasBody && !incoming.complete) outgoing.shouldKeepAlive = false;
    outgoing.writeHead(response.status, Object.fromEntries(response.headers));
    outgoing.end(Buffer.from(await response.arrayBuffer()));
  } catch (error) {
    origin.log.error({ err: error }, "origin adapter failed");
    if (!outgoing.headersSent) outgoing.writeHead(500, { "content-type": "application/json" });
    outgoing.end(JSON.stringify({ error: "internal", message: "the origin failed to handle this request; see its log" }));
  }
}
