import { createServer, type Server } from "node:http";
import next from "next";
import { PEER_HEADER } from "../http/client";

/**
 * Serves the built Next.js app (the wiki and the origin's API routes) on a
 * plain node:http server. The caller installs the origin on globalThis first
 * (installOrigin), so that route handlers use the process's one database.
 */
export async function serveNext(options: { host: string; port: number }): Promise<{ server: Server; close(): Promise<void> }> {
  const app = next({ dev: false, dir: process.cwd(), hostname: options.host, port: options.port });
  await app.prepare();
  const handle = app.getRequestHandler();
  const server = createServer((request, response) => {
    // Route handlers see no socket: hand them its address, replacing any a client sent.
    request.headers[PEER_HEADER] = request.socket.remoteAddress ?? "";
    void handle(request, response);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) =>
      reject(
        error.code === "EADDRINUSE"
          ? new Error(`port ${options.port} on ${options.host} is taken: stop what uses it or set PORT`, { cause: error })
          : error,
      ),
    );
    server.listen(options.port, options.host, resolve);
  });
  return {
    server,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await app.close();
    },
  };
}
