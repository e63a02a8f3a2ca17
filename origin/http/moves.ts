import { z } from "zod";
import { movePage, pageMoves } from "../moves";
import type { Origin } from "../runtime";
import { sessionIdentity } from "./auth";
import { readJson } from "./body";
import { announce } from "./deletion";
import { requireOwnSiteJson } from "./cross-site";
import { slugParam } from "./params";
import { answer } from "./respond";

const MAX_BODY_BYTES = 4 * 1024;

const moveBody = z.object({
  to: z.string({ error: "is required: the page's new name" }).trim().min(1, "is required: the page's new name").transform(slugParam),
  reason: z.string().trim().max(500, "must be at most 500 characters").default(""),
});

/** POST /api/pages/:slug/move `{ to, reason? }`: anyone who may edit the page (session cookie). */
export function handleMovePage(origin: Origin, request: Request, params: { slug: string }): Promise<Response> {
  return answer(origin, async () => {
    requireOwnSiteJson(origin, request);
    const from = slugParam(params.slug);
    const by = await sessionIdentity(origin, request);
    const { to, reason } = moveBody.parse(await readJson(request, MAX_BODY_BYTES));
    const { move, notice } = await movePage(origin.db.prisma, { from, to, reason, by });
    origin.log.info({ from, to, by: by.name }, "page moved");
    // The edges hear of a move as of a deletion: the same notice, the same recheck.
    announce(origin, notice);
    return { move };
  });
}

/** GET /api/pages/:slug/moves: the page's moves, newest first. */
export function handleListMoves(origin: Origin, _request: Request, params: { slug: string }): Promise<Response> {
  return answer(origin, async () => ({ moves: await pageMoves(origin.db.prisma, slugParam(params.slug)) }));
}
