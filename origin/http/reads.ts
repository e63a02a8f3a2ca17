import { z } from "zod";
import { backlinks, WANTED_MAX_LIMIT, wantedPages } from "../links";
import { userContributions } from "../contributions";
import { getPage } from "../pages";
import { RECENT_CHANGES_MAX_LIMIT, recentChanges } from "../recent-changes";
import { getRevision, HISTORY_MAX_LIMIT, listRevisions } from "../revisions";
import type { Origin } from "../runtime";
import { SEARCH_MAX_LIMIT, SEARCH_MAX_QUERY_LENGTH, searchPages } from "../search";
import { cacheableJson, PRIVATE_NO_STORE, publicCacheControl } from "../../common/conditional";
import { changeCursorParam, integerParam, queryOf, slugParam } from "./params";
import { recentChangesQuery } from "./recent-changes-query";
import { answer, json } from "./respond";

/**
 * The wiki's public read endpoints. Each parses its path and query once
 * (a bad value is a 400 naming the parameter), then calls one operation.
 * Their answers are the same for everyone: shared caches may keep them a
 * few seconds (ORIGIN_PAGE_MAX_AGE_S) and revalidate them by ETag. Search
 * is the exception: its queries are the readers' own words.
 */

// Revision numbers are Postgres integers.
const MAX_INTEGER = 2_147_483_647;

const historyQuery = z.object({
  limit: integerParam(1, HISTORY_MAX_LIMIT).optional(),
  before: integerParam(1, MAX_INTEGER).optional(),
});
const revisionPath = z.object({ number: integerParam(1, MAX_INTEGER) });
const searchQuery = z.object({
  q: z
    .string({ error: "required: the words to search for, as in ?q=red+wedding" })
    .trim()
    .min(1, "must hold at least one word")
    .max(SEARCH_MAX_QUERY_LENGTH, `may hold at most ${SEARCH_MAX_QUERY_LENGTH} characters`),
  limit: integerParam(1, SEARCH_MAX_LIMIT).optional(),
});
const wantedQuery = z.object({ limit: integerParam(1, WANTED_MAX_LIMIT).optional() });
const contributionsQuery = z.object({ limit: integerParam(1, RECENT_CHANGES_MAX_LIMIT).optional(), before: changeCursorParam.optional() });

/** GET /api/pages/:slug */
export function handleGetPage(origin: Origin, request: Request, params: { slug: string }): Promise<Response> {
  return answer(origin, async () => pageRead(origin, request, await getPage(origin.db.prisma, { slug: slugParam(params.slug) })));
}

/** GET /api/pages/:slug/history?limit=&before= */
export function handleGetHistory(origin: Origin, request: Request, params: { slug: string }): Promise<Response> {
  return answer(origin, async () => {
    const slug = slugParam(params.slug);
    const { limit, before } = historyQuery.parse(queryOf(request));
    return pageRead(origin, request, { slug, revisions: await listRevisions(origin.db.prisma, { slug, limit, before }) });
  });
}

/** GET /api/pages/:slug/revisions/:number */
export function handleGetRevision(
  origin: Origin,
  request: Request,
  params: { slug: string; number: string },
): Promise<Response> {
  return answer(origin, async () => {
    const slug = slugParam(params.slug);
    const { number } = revisionPath.parse({ number: params.number });
    return pageRead(origin, request, { slug, ...(await getRevision(origin.db.prisma, { slug, number })) });
  });
}

/** GET /api/pages/:slug/backlinks */
export function handleGetBacklinks(origin: Origin, request: Request, params: { slug: string }): Promise<Response> {
  return answer(origin, async () => {
    const slug = slugParam(params.slug);
    return pageRead(origin, request, { slug, backlinks: await backlinks(origin.db.prisma, { slug }) });
  });
}

/** GET /api/recent-changes?limit=&since=&prefix=&user=&hideadmins=1 */
export function handleRecentChanges(origin: Origin, request: Request): Promise<Response> {
  return answer(origin, async () => {
    const changes = await recentChanges(origin.db.prisma, recentChangesQuery.parse(queryOf(request)));
    return wikiRead(origin, request, { changes });
  });
}

/** GET /api/users/:name/contributions?limit=&before= */
export function handleUserContributions(origin: Origin, request: Request, params: { name: string }): Promise<Response> {
  return answer(origin, async () => {
    const { limit, before } = contributionsQuery.parse(queryOf(request));
    return wikiRead(origin, request, await userContributions(origin.db.prisma, { name: params.name, limit, before }));
  });
}

/** GET /api/search?q=&limit= */
export function handleSearch(origin: Origin, request: Request): Promise<Response> {
  return answer(origin, async () => {
    const { q, limit } = searchQuery.parse(queryOf(request));
    const results = await searchPages(origin.db.prisma, { query: q, limit });
    return json({ query: q, results }, { headers: { "cache-control": PRIVATE_NO_STORE } });
  });
}

/** GET /api/wanted-pages?limit= */
export function handleWantedPages(origin: Origin, request: Request): Promise<Response> {
  return answer(origin, async () => {
    const { limit } = wantedQuery.parse(queryOf(request));
    return wikiRead(origin, request, { pages: await wantedPages(origin.db.prisma, { limit }) });
  });
}

/** Pages, their history, revisions and links: as fresh as a page view. */
function pageRead(origin: Origin, request: Request, body: unknown): Response {
  const policy = origin.config.publicCache;
  return cacheableJson(request, body, publicCacheControl({ maxAgeSeconds: policy.pageMaxAgeSeconds, staleSeconds: policy.pageStaleSeconds }));
}

/** Lists across the wiki, which change with any edit anywhere: a shorter bound. */
function wikiRead(origin: Origin, request: Request, body: unknown): Response {
  const policy = origin.config.publicCache;
  return cacheableJson(
    request,
    body,
    publicCacheControl({ maxAgeSeconds: policy.recentChangesMaxAgeSeconds, staleSeconds: policy.recentChangesMaxAgeSeconds }),
  );
}
