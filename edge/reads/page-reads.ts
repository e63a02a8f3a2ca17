import type { IncomingMessage, ServerResponse } from "node:http";
import { ifNoneMatchHits, publicCacheControl } from "../../common/conditional";
import { parseSlug, type Slug, SlugError } from "../../common/slug";
import type { AddressLimiter } from "./address-limiter";
import type { Page } from "../pages/page";
import { readSnapshot } from "./page-snapshot";
import { readerOf } from "./reader-address";

/** The path prefix of page reads: GET /pages/<slug>. */
export const PAGE_READS_PREFIX = "/pages/";

/** Errors depend on this replica and this moment (a page held a second later reads fine): no cache keeps them. */
const NO_STORE = "no-store";

/**
 * Any site may read: the pages are public and a read carries no credentials
 * (no cookie, no token), so the wiki's page view (served by the origin, on
 * another origin than the edges) can read the nearest edge from the browser.
 * The headers a reader acts on are exposed to its script.
 */
const CORS = { "access-control-allow-origin": "*", "access-control-expose-headers": "etag, retry-after" } as const;

/** How a read was answered (weirwood_edge_page_reads_total): how much of a PoP's reading it serves itself. */
export type PageReadAnswer = "ok" | "not_modified" | "not_held" | "deleted" | "bad_request" | "rate_limited" | "method_not_allowed";

export interface PageReads {
  /** A page this replica holds now; never loads one (a read flood must not make the edge bootstrap pages). */
  heldPage(slug: Slug): Page | undefined;
  /** Per client address; undefined when rate limits are off (EDGE_RATE_LIMIT=off). */
  limiter: AddressLimiter | undefined;
  cache: { maxAgeSeconds: number; staleSeconds: number };
  answered(answer: PageReadAnswer): void;
}

/**
 * GET /pages/:slug on an edge: a page it holds, from its Yjs document, with
 * the origin's read headers (public Cache-Control, a strong ETag over the
 * body, 304 on If-None-Match), so that a PoP serves hot pages' reads
 * without the origin. Pages are public in the wiki: no token. What the
 * replica does not hold is a 404; the reader then asks the origin.
 * The body has no HTML: rendering colours [[links]] by whether their pages
 * exist, which only the origin knows.
 */
export function answerPageRead(request: IncomingMessage, response: ServerResponse, reads: PageReads): void {
  const send = (status: number, body: { error: PageReadAnswer } & Record<string, unknown>, headers: Record<string, string> = {}) => {
    reads.answered(body.error);
    response.writeHead(status, { "content-type": "application/json; charset=utf-8", "cache-control": NO_STORE, ...CORS, ...headers });
    response.end(JSON.stringify(body));
  };
  if (request.method !== "GET" && request.method !== "HEAD") {
    return send(405, { error: "method_not_allowed", message: `pages are read with GET ${PAGE_READS_PREFIX}<slug>, not ${request.method}` }, { allow: "GET, HEAD" });
  }
  // Before anything else is done for it, a request that is well-formed or not.
  const waitMs = reads.limiter?.take(readerOf(request.socket.remoteAddress)) ?? 0;
  if (waitMs > 0) {
    const retryAfter = String(Math.max(1, Math.ceil(waitMs / 1000)));
    return send(429, { error: "rate_limited", message: `too many page reads from your address: retry in ${retryAfter} s, or read the origin` }, { "retry-after": retryAfter });
  }
  const raw = new URL(request.url ?? "/", "http://edge.invalid").pathname.slice(PAGE_READS_PREFIX.length);
  let slug: Slug;
  try {
    slug = parseSlug(decodeURIComponent(raw));
  } catch (error) {
    if (!(error instanceof SlugError || error instanceof URIError)) throw error;
    return send(400, { error: "bad_request", message: `slug: ${error instanceof URIError ? `not percent-encoded UTF-8: ${JSON.stringify(raw)}` : error.message}` });
  }
  const page = reads.heldPage(slug);
  if (!page) {
    return send(404, {
      error: "not_held",
      slug,
      message: `this edge replica does not hold page ${slug} now: read it from the origin (GET /api/pages/${encodeURIComponent(slug)})`,
    });
  }
  // Held while its last edits are flushed, but gone for readers, as at the origin (410 `deleted`).
  if (page.deleted !== undefined) {
    return send(410, { error: "deleted", slug, message: `${page.deleted}: admins can undelete it at the origin` });
  }
  const { body, etag } = readSnapshot(page);
  const headers = { etag, "cache-control": publicCacheControl(reads.cache), ...CORS };
  if (ifNoneMatchHits(request.headers["if-none-match"], etag)) {
    reads.answered("not_modified");
    response.writeHead(304, headers);
    response.end();
    return;
  }
  reads.answered("ok");
  response.writeHead(200, { ...headers, "content-type": "application/json; charset=utf-8" });
  response.end(body);
}
