import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import path from "node:path";
import next from "next";
import { PEER_HEADER } from "../http/client";
import type { Origin } from "../runtime";
import { prepareCacheableView } from "./cacheable-views";

/**
 * Serves the built Next.js app (the wiki and the origin's API routes) on a
 * plain node:http server. The caller installs the origin on globalThis first
 * (installOrigin), so that route handlers use the process's one database.
 * The pages that are the same for every reader get their ETag, 304 and
 * Cache-Control here, in front of Next (./cacheable-views.ts).
 */
export async function serveNext(options: { host: string; port: number; origin: Origin }): Promise<{ server: Server; close(): Promise<void> }> {
  const dir = process.cwd();
  const app = next({ dev: false, dir, hostname: options.host, port: options.port });
  await app.prepare();
  const handle = app.getRequestHandler();
  // A new build renders other HTML for the same page: it is part of every page's ETag.
  const buildId = (await readFile(path.join(dir, ".next", "BUILD_ID"), "utf8")).trim();
  const server = createServer((request, response) => {
    // Route handlers see no socket: hand them its address, replacing any a client sent.
    request.headers[PEER_HEADER] = request.socket.remoteAddress ?? "";
    void prepareCacheableView(options.origin, buildId, request, response)
      .catch((error: unknown) => {
        // Next renders it as it would any page, uncached: whatever tag was set goes.
        options.origin.log.error({ err: error, url: request.url }, "could not tag a cacheable page; rendering it uncached");
        for (const name of ["etag", "cache-control", "vary"]) response.removeHeader(name);
        return "render" as const;
      })
      .then((outcome) => (outcome === "done" ? undefined : handle(request, response)));
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
