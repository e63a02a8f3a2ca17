import { createHmac } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { CSP_NONCE_HEADER } from "../../common/csp";
import { parseSlug, type Slug, SlugError } from "../../common/slug";
import { ifNoneMatchHits, publicCacheControl, strongEtag } from "../../common/conditional";
import { HOME_RECENT_CHANGES, readPageView } from "../page-view";
import { recentChanges } from "../recent-changes";
import type { Origin } from "../runtime";
import { codingKey } from "./content-coding";

/**
 * The wiki's pages that are the same HTML for every reader: a page's read
 * view and the home page. Their layout reads no cookie (app/layout.tsx), so
 * shared caches may keep them. Next.js answers a page it renders per request
 * with `private, no-store` and no ETag, but keeps a Cache-Control it finds
 * already set; so the host, in front of Next, tags these pages with an ETag
 * of what they show, answers a matching If-None-Match with 304 before any
 * rendering, and sets their Cache-Control.
 *
 * The tag covers everything the HTML is made of: the build, the view's
 * content, and the CSP nonce, which is derived from the tag (keyed with the
 * service secret, shared by every origin of a deployment) instead of drawn
 * per request. Cached HTML hands its nonce to every reader anyway; deriving
 * it keeps one tag one body, and an edit, which changes the tag, gives an
 * unguessable new nonce.
 *
 * Next reads the page again to render it: an edit merged between the two
 * reads gives a body newer than its tag. That tag is then already outdated,
 * so no later If-None-Match with it gets a 304; the copy lives at most its
 * s-maxage, as any copy does.
 */

/** The request headers of Next's client-side navigations and prefetches: those answers are RSC payloads, not HTML. */
const ROUTER_HEADERS = ["rsc", "next-router-state-tree", "next-router-prefetch", "next-router-segment-prefetch"];

/** What Next sends as Vary on a page; a 304 must carry what the 200 would (RFC 9110 §15.4.5). */
const PAGE_VARY = "rsc, next-router-state-tree, next-router-prefetch, next-router-segment-prefetch, Accept-Encoding";

type View = { kind: "page"; slug: Slug } | { kind: "home" };

function viewOf(request: IncomingMessage): View | undefined {
  if (request.method !== "GET" && request.method !== "HEAD") return undefined;
  if (ROUTER_HEADERS.some((name) => request.headers[name] !== undefined)) return undefined;
  const url = new URL(request.url ?? "/", "http://weirwood.local");
  // A query string is some other request (Next's own ?_rsc= among them): left to Next as it is.
  if (url.search !== "") return undefined;
  if (url.pathname === "/") return { kind: "home" };
  const match = /^\/wiki\/([^/]+)$/u.exec(url.pathname);
  if (!match) return undefined;
  try {
    return { kind: "page", slug: parseSlug(decodeURIComponent(match[1]!)) };
  } catch (error) {
    // A title to redirect, or no page name at all: the page route answers those.
    if (error instanceof SlugError || error instanceof URIError) return undefined;
    throw error;
  }
}

/** What the view shows, or undefined when it shows nothing cacheable (a page not written yet). */
async function contentOf(origin: Origin, view: View): Promise<unknown> {
  switch (view.kind) {
    case "page":
      return (await readPageView(origin.db.prisma, view.slug)) ?? undefined;
    case "home":
      return recentChanges(origin.db.prisma, { limit: HOME_RECENT_CHANGES });
    default:
      return view satisfies never;
  }
}

function cspNonceFor(secret: string, etag: string): string {
  return createHmac("sha256", secret).update(`csp-nonce ${etag}`).digest("base64").slice(0, 24);
}

/**
 * Runs before Next sees a request. Answers "done" when it answered (a 304);
 * otherwise it may have set the ETag and Cache-Control on `response` and
 * the nonce on `request`, and Next renders.
 */
export async function prepareCacheableView(
  origin: Origin,
  buildId: string,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<"done" | "render"> {
  // Only this host sets the nonce Next renders with; never a client.
  delete request.headers[CSP_NONCE_HEADER];
  const view = viewOf(request);
  if (!view) return "render";
  const content = await contentOf(origin, view);
  if (content === undefined) {
    origin.metrics.pageViews.inc({ view: view.kind, answer: "rendered" });
    return "render";
  }
  // Next compresses by Accept-Encoding: one tag must not name both a gzipped and a plain body.
  const etag = strongEtag({ buildId, view, content, coding: codingKey(request.headers["accept-encoding"]) });
  const policy = origin.config.publicCache;
  const maxAgeSeconds = view.kind === "home" ? policy.recentChangesMaxAgeSeconds : policy.pageMaxAgeSeconds;
  const staleSeconds = view.kind === "home" ? policy.recentChangesMaxAgeSeconds : policy.pageStaleSeconds;
  response.setHeader("ETag", etag);
  response.setHeader("Cache-Control", publicCacheControl({ maxAgeSeconds, staleSeconds }));
  response.setHeader("Vary", PAGE_VARY);
  if (ifNoneMatchHits(request.headers["if-none-match"], etag)) {
    response.statusCode = 304;
    response.end();
    origin.metrics.pageViews.inc({ view: view.kind, answer: "not-modified" });
    return "done";
  }
  request.headers[CSP_NONCE_HEADER] = cspNonceFor(origin.serviceSecret, etag);
  origin.metrics.pageViews.inc({ view: view.kind, answer: "rendered" });
  return "render";
}
