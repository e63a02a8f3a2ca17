import type { Origin } from "../runtime";
import { handleJwks, handleLogin, handleLogout, handleMe, handleRegister, handleToken, handleViewer } from "./auth";
import { handleSetBot } from "./bots";
import { handleBlock, handleBlockLog, handleInternalBlocks, handleListBlocks, handleUnblock } from "./blocks";
import { handleDeletePage, handleInternalDeletedPages, handleListDeletions, handleUndeletePage } from "./deletion";
import { handleListEdges } from "./edges";
import { handleListMoves, handleMovePage } from "./moves";
import { handleFlush } from "./flush";
import { handleHealth, handleReady } from "./health";
import { handleMetrics } from "./metrics";
import { handlePageState } from "./page-state";
import { handleSetProtection } from "./protection";
import {
  handleGetBacklinks,
  handleGetHistory,
  handleGetPage,
  handleGetRevision,
  handleRecentChanges,
  handleSearch,
  handleUserContributions,
  handleWantedPages,
} from "./reads";
import { handleUnwatch, handleWatch, handleWatchlist, handleWatchState } from "./watchlist";
import { json } from "./respond";

type Params = Record<string, string>;
type Handler = (origin: Origin, request: Request, params: Params) => Promise<Response> | Response;

/**
 * The origin's API as one table, for hosting it without Next.js: the
 * integration tests and the self-hosted edge tests run the real handlers
 * behind a plain node:http server. The Next.js route files under app/api
 * call the same handlers.
 */
const ROUTES: [method: string, pattern: string, handler: Handler][] = [
  ["POST", "/api/auth/register", handleRegister],
  ["POST", "/api/auth/login", handleLogin],
  ["POST", "/api/auth/logout", handleLogout],
  ["POST", "/api/auth/token", handleToken],
  ["GET", "/api/auth/me", handleMe],
  ["GET", "/api/me", handleViewer],
  ["GET", "/.well-known/jwks.json", (origin) => handleJwks(origin)],
  ["GET", "/api/edges", (origin) => handleListEdges(origin)],
  ["GET", "/healthz", () => handleHealth()],
  ["GET", "/readyz", (origin) => handleReady(origin)],
  ["GET", "/metrics", (origin) => handleMetrics(origin)],
  ["POST", "/api/internal/flush", handleFlush],
  ["GET", "/api/internal/pages/:slug/state", (origin, request, params) => handlePageState(origin, request, { slug: params.slug! })],
  ["GET", "/api/pages/:slug", (origin, request, params) => handleGetPage(origin, request, { slug: params.slug! })],
  ["GET", "/api/pages/:slug/history", (origin, request, params) => handleGetHistory(origin, request, { slug: params.slug! })],
  [
    "GET",
    "/api/pages/:slug/revisions/:number",
    (origin, request, params) => handleGetRevision(origin, request, { slug: params.slug!, number: params.number! }),
  ],
  ["GET", "/api/pages/:slug/backlinks", (origin, request, params) => handleGetBacklinks(origin, request, { slug: params.slug! })],
  ["PUT", "/api/pages/:slug/protection", (origin, request, params) => handleSetProtection(origin, request, { slug: params.slug! })],
  ["POST", "/api/pages/:slug/move", (origin, request, params) => handleMovePage(origin, request, { slug: params.slug! })],
  ["GET", "/api/pages/:slug/moves", (origin, request, params) => handleListMoves(origin, request, { slug: params.slug! })],
  ["POST", "/api/pages/:slug/delete", (origin, request, params) => handleDeletePage(origin, request, { slug: params.slug! })],
  ["POST", "/api/pages/:slug/undelete", (origin, request, params) => handleUndeletePage(origin, request, { slug: params.slug! })],
  ["GET", "/api/deletions", handleListDeletions],
  ["POST", "/api/internal/deleted-pages", handleInternalDeletedPages],
  ["GET", "/api/blocks", handleListBlocks],
  ["POST", "/api/blocks", handleBlock],
  ["GET", "/api/blocks/log", handleBlockLog],
  ["DELETE", "/api/blocks/:name", (origin, request, params) => handleUnblock(origin, request, { name: params.name! })],
  ["GET", "/api/internal/blocks", handleInternalBlocks],
  ["GET", "/api/recent-changes", handleRecentChanges],
  ["GET", "/api/search", handleSearch],
  ["GET", "/api/wanted-pages", handleWantedPages],
  ["PUT", "/api/users/:name/bot", (origin, request, params) => handleSetBot(origin, request, { name: params.name! })],
  ["GET", "/api/users/:name/contributions", (origin, request, params) => handleUserContributions(origin, request, { name: params.name! })],
  ["GET", "/api/watchlist", handleWatchlist],
  ["GET", "/api/watchlist/:slug", (origin, request, params) => handleWatchState(origin, request, { slug: params.slug! })],
  ["PUT", "/api/watchlist/:slug", (origin, request, params) => handleWatch(origin, request, { slug: params.slug! })],
  ["DELETE", "/api/watchlist/:slug", (origin, request, params) => handleUnwatch(origin, request, { slug: params.slug! })],
];

function match(pattern: string, path: string): Params | undefined {
  const want = pattern.split("/");
  const got = path.split("/");
  if (want.length !== got.length) return undefined;
  const params: Params = {};
  for (let i = 0; i < want.length; i++) {
    const part = want[i]!;
    if (part.startsWith(":")) {
      try {
        params[part.slice(1)] = decodeURIComponent(got[i]!);
      } catch {
        return undefined;
      }
    } else if (part !== got[i]) return undefined;
  }
  return params;
}

export async function routeOriginRequest(origin: Origin, request: Request): Promise<Response> {
  const path = new URL(request.url).pathname;
  for (const [method, pattern, handler] of ROUTES) {
    const params = match(pattern, path);
    if (params && method === request.method) return handler(origin, request, params);
  }
  return json({ error: "not_found", message: `no route ${request.method} ${path}` }, { status: 404 });
}
