import { z } from "zod";
import type { BlockNotice } from "../../protocol/blocks";
import { blockLog, blockUser, listActiveBlocks, unblockUser } from "../blocks";
import { ForbiddenError } from "../errors";
import type { Origin } from "../runtime";
import { sessionIdentity } from "./auth";
import { readJson } from "./body";
import { queryOf } from "./params";
import { requireOwnSiteJson } from "./cross-site";
import { answer } from "./respond";
import { requireEdge } from "./service-auth";

const MAX_BODY_BYTES = 4 * 1024;

const blockBody = z.object({
  name: z.string().trim().min(1, "names the account to block"),
  reason: z.string().trim().min(1, "is required: say why, the blocked person is shown it").max(500, "must be at most 500 characters"),
  expiresAt: z.iso
    .datetime({ offset: true, error: "must be an ISO 8601 date and time, e.g. 2026-12-31T00:00:00Z, or null for no end" })
    .nullable()
    .optional(),
});

const unblockBody = z.object({
  reason: z.string().trim().max(500, "must be at most 500 characters").optional(),
});

const logQuery = z.object({
  limit: z.coerce.number().int().min(1, "must be at least 1").max(500, "must be at most 500").default(100),
  before: z.iso.datetime({ offset: true, error: "must be an ISO 8601 date and time, as the log's `at`" }).optional(),
  user: z.string().trim().min(1).optional(),
});

/** Tells every edge at once (the broker); a lost notice is made up by their recheck of GET /api/internal/blocks. */
function announce(origin: Origin, notice: BlockNotice): void {
  for (const listener of origin.blockChanges) listener(notice);
}

/** GET /api/blocks: the active blocks, admins only (session cookie). */
export function handleListBlocks(origin: Origin, request: Request): Promise<Response> {
  return answer(origin, async () => {
    const identity = await sessionIdentity(origin, request);
    if (identity.role !== "admin") throw new ForbiddenError(`only an admin may list blocks; ${identity.name} is ${identity.role}`);
    return { blocks: await listActiveBlocks(origin.db.prisma) };
  });
}

/** POST /api/blocks `{ name, reason, expiresAt? }`, admins only: blocks (or re-blocks) an account. */
export function handleBlock(origin: Origin, request: Request): Promise<Response> {
  return answer(origin, async () => {
    requireOwnSiteJson(origin, request);
    const by = await sessionIdentity(origin, request);
    const body = blockBody.parse(await readJson(request, MAX_BODY_BYTES));
    const expiresAt = body.expiresAt ? new Date(body.expiresAt) : null;
    const { block, notice } = await blockUser(origin.db.prisma, { name: body.name, reason: body.reason, expiresAt, by });
    origin.log.info({ user: block.name, by: by.name, expiresAt: block.expiresAt }, "account blocked");
    announce(origin, notice);
    return { block };
  });
}

/** DELETE /api/blocks/:name `{ reason? }` (a JSON body, `{}` at least, as every state-changing request), admins only: lifts a block. */
export function handleUnblock(origin: Origin, request: Request, params: { name: string }): Promise<Response> {
  return answer(origin, async () => {
    requireOwnSiteJson(origin, request);
    const by = await sessionIdentity(origin, request);
    const body = unblockBody.parse(await readJson(request, MAX_BODY_BYTES));
    const { unblocked, notice } = await unblockUser(origin.db.prisma, { name: params.name, by, reason: body.reason });
    origin.log.info({ user: unblocked, by: by.name }, "block lifted");
    announce(origin, notice);
    return { unblocked };
  });
}

/** GET /api/internal/blocks (edge service secret): what every edge re-reads every EDGE_BLOCK_RECHECK_MS. */
export function handleInternalBlocks(origin: Origin, request: Request): Promise<Response> {
  return answer(origin, async () => {
    requireEdge(origin, request);
    const blocks = await listActiveBlocks(origin.db.prisma);
    return { blocks: blocks.map(({ userId, name, reason, expiresAt }) => ({ userId, name, reason, expiresAt })) };
  });
}

/**
 * GET /api/blocks/log?limit=&before=&user=: every block and unblock, newest
 * first; public, as a wiki's block log is (it says what the blocked person
 * is told). `before` takes the last entry's `at` for the next page.
 */
export function handleBlockLog(origin: Origin, request: Request): Promise<Response> {
  return answer(origin, async () => {
    const query = logQuery.parse(queryOf(request));
    const entries = await blockLog(origin.db.prisma, { limit: query.limit, before: query.before ? new Date(query.before) : undefined, name: query.user });
    return { entries };
  });
}
