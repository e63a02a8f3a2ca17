import { z } from "zod";
import type { Origin } from "../runtime";
import { RECENT_CHANGES_MAX_LIMIT } from "../recent-changes";
import { isWatching, unwatchPage, watchlistChanges, watchPage } from "../watchlist";
import { sessionIdentity } from "./auth";
import { readJson } from "./body";
import { PERSONAL_HEADERS } from "../../common/conditional";
import { requireOwnSiteJson } from "./cross-site";
import { changeCursorParam, integerParam, queryOf, slugParam } from "./params";
import { answer, json } from "./respond";

/**
 * A signed-in user's watchlist. Every answer names who asked, so none is
 * cached anywhere: the page view, the same for everyone, asks for its star
 * from the browser.
 */

// Watching takes no options yet; an object keeps room for some.
const watchBody = z.object({});
const watchlistQuery = z.object({ limit: integerParam(1, RECENT_CHANGES_MAX_LIMIT).optional(), before: changeCursorParam.optional() });

/** GET /api/watchlist?limit=&before=: changes to the pages the session's user watches, newest first. */
export function handleWatchlist(origin: Origin, request: Request): Promise<Response> {
  return answer(origin, async () => {
    const identity = await sessionIdentity(origin, request);
    const { limit, before } = watchlistQuery.parse(queryOf(request));
    return json(await watchlistChanges(origin.db.prisma, { userId: identity.userId, limit, before }), { headers: PERSONAL_HEADERS });
  });
}

/** GET /api/watchlist/:slug: `{ slug, watching }` for the page's star. */
export function handleWatchState(origin: Origin, request: Request, params: { slug: string }): Promise<Response> {
  return answer(origin, async () => {
    const slug = slugParam(params.slug);
    const identity = await sessionIdentity(origin, request);
    const watching = await isWatching(origin.db.prisma, { userId: identity.userId, slug });
    return json({ slug, watching }, { headers: PERSONAL_HEADERS });
  });
}

/** PUT /api/watchlist/:slug `{}` */
export function handleWatch(origin: Origin, request: Request, params: { slug: string }): Promise<Response> {
  return changeWatch(origin, request, params, true);
}

/** DELETE /api/watchlist/:slug `{}` */
export function handleUnwatch(origin: Origin, request: Request, params: { slug: string }): Promise<Response> {
  return changeWatch(origin, request, params, false);
}

function changeWatch(origin: Origin, request: Request, params: { slug: string }, watching: boolean): Promise<Response> {
  return answer(origin, async () => {
    requireOwnSiteJson(origin, request);
    const slug = slugParam(params.slug);
    const identity = await sessionIdentity(origin, request);
    watchBody.parse(await readJson(request, 1024));
    const change = { userId: identity.userId, slug };
    await (watching ? watchPage(origin.db.prisma, change) : unwatchPage(origin.db.prisma, change));
    return json({ slug, watching }, { headers: PERSONAL_HEADERS });
  });
}
