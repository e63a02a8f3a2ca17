import { z } from "zod";
import { deletedPagesQuerySchema, type DeletionNotice } from "../../protocol/deletions";
import { DELETIONS_MAX_LIMIT, deletedAmong, deletePage, listDeletions, undeletePage } from "../deletion";
import type { Origin } from "../runtime";
import { sessionIdentity } from "./auth";
import { readJson } from "./body";
import { requireOwnSiteJson } from "./cross-site";
import { integerParam, queryOf, slugParam } from "./params";
import { answer, json } from "./respond";
import { requireEdge } from "./service-auth";
import { PRIVATE_NO_STORE } from "../../common/conditional";

const MAX_BODY_BYTES = 4 * 1024;

// As MediaWiki's: a deletion without a reason is refused, the log must say why.
const reasonBody = z.object({
  reason: z.string({ error: "is required: say why, the deletion log keeps it" }).trim().min(1, "is required: say why, the deletion log keeps it").max(500, "must be at most 500 characters"),
});

const deletionsQuery = z.object({
  slug: z.string().transform(slugParam).optional(),
  limit: integerParam(1, DELETIONS_MAX_LIMIT).optional(),
});

/**
 * Tells every edge at once (the broker) of a delete, an undelete or a move
 * (origin/http/moves.ts); a lost notice is made up by their recheck of POST
 * /api/internal/deleted-pages.
 */
export function announce(origin: Origin, notice: DeletionNotice): void {
  for (const listener of origin.deletionChanges) listener(notice);
}

/** POST /api/pages/:slug/delete `{ reason }`, admins only (session cookie). */
export function handleDeletePage(origin: Origin, request: Request, params: { slug: string }): Promise<Response> {
  return answer(origin, async () => {
    requireOwnSiteJson(origin, request);
    const slug = slugParam(params.slug);
    const by = await sessionIdentity(origin, request);
    const { reason } = reasonBody.parse(await readJson(request, MAX_BODY_BYTES));
    const { entry, notice } = await deletePage(origin.db.prisma, { slug, reason, by });
    origin.log.info({ slug, by: by.name }, "page deleted");
    announce(origin, notice);
    return { entry };
  });
}

/** POST /api/pages/:slug/undelete `{ reason }`, admins only (session cookie). */
export function handleUndeletePage(origin: Origin, request: Request, params: { slug: string }): Promise<Response> {
  return answer(origin, async () => {
    requireOwnSiteJson(origin, request);
    const slug = slugParam(params.slug);
    const by = await sessionIdentity(origin, request);
    const { reason } = reasonBody.parse(await readJson(request, MAX_BODY_BYTES));
    const { entry, notice } = await undeletePage(origin.db.prisma, { slug, reason, by });
    origin.log.info({ slug, by: by.name }, "page undeleted");
    announce(origin, notice);
    return { entry };
  });
}

/** GET /api/deletions?slug=&limit=: the deletion log, newest first, admins only; never cached. */
export function handleListDeletions(origin: Origin, request: Request): Promise<Response> {
  return answer(origin, async () => {
    const by = await sessionIdentity(origin, request);
    const { slug, limit } = deletionsQuery.parse(queryOf(request));
    const entries = await listDeletions(origin.db.prisma, { by, slug, limit });
    return json({ entries }, { headers: { "cache-control": PRIVATE_NO_STORE } });
  });
}

/** POST /api/internal/deleted-pages `{ slugs }` (edge service secret): which of the pages an edge holds are deleted now. */
export function handleInternalDeletedPages(origin: Origin, request: Request): Promise<Response> {
  return answer(origin, async () => {
    requireEdge(origin, request);
    // A replica holds at most EDGE_MAX_PAGES pages; their slugs are short.
    const { slugs } = deletedPagesQuerySchema.parse(await readJson(request, 8 * 1024 * 1024));
    return { deleted: await deletedAmong(origin.db.prisma, slugs) };
  });
}
