import * as Y from "yjs";
import type { Slug } from "../common/slug";
import { type PageState, toBase64 } from "../protocol/flush";
import type { PrismaClient } from "./generated/prisma/client";
import { deletedAmong } from "./deletion";
import { movedTargets } from "./moves";
import { headSeq, pageUpdate, readStoredPage } from "./page-log";

/**
 * A page as a Yjs update, for an edge that bootstraps it and no peer has it:
 * the base and the flushes after it, merged without building a document.
 * A page that does not exist yet is an empty document: the first flush
 * creates it.
 *
 * With `since` (a state vector), `state` holds only what that vector lacks
 * (and the whole delete set): an edge that already holds the page and
 * needs its protection, or the commits past what it holds, need not
 * transfer and parse the whole page. `stateVector` stays the page's whole.
 */
export async function readPageState(prisma: PrismaClient, slug: Slug, since?: Uint8Array): Promise<PageState> {
  // An old name of a moved page: the page's state, flagged, so that an edge
  // opening the old name refuses connections (4411) and one still flushing
  // under it gets the state its answers are computed against.
  const movedTo = (await movedTargets(prisma, [slug])).get(slug);
  if (movedTo !== undefined) return { ...(await readPageState(prisma, movedTo, since)), slug, movedTo };
  const [stored, page, claims] = await Promise.all([
    readStoredPage(prisma, slug),
    prisma.page.findUnique({ where: { slug }, select: { protection: true, deletedAt: true } }),
    prisma.pageClientClaim.findMany({ where: { page: { slug } }, select: { clientId: true, author: true } }),
  ]);
  if (!stored || !page) {
    const empty = new Y.Doc();
    return {
      slug,
      exists: false,
      protection: "none",
      deleted: null,
      state: toBase64(Y.encodeStateAsUpdate(empty)),
      stateVector: toBase64(Y.encodeStateVector(empty)),
      revision: 0,
    };
  }
  const state = pageUpdate(stored);
  const [deleted] = page.deletedAt ? await deletedAmong(prisma, [slug]) : [];
  return {
    slug,
    exists: true,
    protection: page.protection,
    // The state all the same: an edge still flushing the page's last edits needs it.
    deleted: deleted ? { reason: deleted.reason } : null,
    state: toBase64(since ? Y.diffUpdate(state, since) : state),
    stateVector: toBase64(Y.encodeStateVectorFromUpdate(state)),
    revision: Number(headSeq(stored)),
    claims: claims.map((claim): [number, string] => [Number(claim.clientId), claim.author]),
  };
}
