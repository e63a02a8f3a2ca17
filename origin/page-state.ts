import * as Y from "yjs";
import type { Slug } from "../common/slug";
import { type PageState, toBase64 } from "../protocol/flush";
import type { PrismaClient } from "./generated/prisma/client";
import { deletedAmong } from "./deletion";
import { movedTargets } from "./moves";
import { docCacheOf } from "./doc-cache";
import { headSeq, type PageHead, pageUpdate, readPageHeads, readStoredPage } from "./page-log";

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
 *
 * A page the origin merged recently is read from the merges' document
 * (origin/doc-cache.ts) when it holds the page's current version: the
 * other PoPs' pulls after each commit then cost a diff of the document,
 * not a read and merge of every row of the page. On a hot page a pull often comes
 * while the next merge of a hot page holds that document, or just after it
 * put back a newer version than the read saw: the read then waits for the
 * merge and reads again, a few times at most before it reads the rows.
 */
export async function readPageState(prisma: PrismaClient, slug: Slug, since?: Uint8Array): Promise<PageState> {
  return readPageStateTrying(prisma, slug, since, READ_ATTEMPTS);
}

/** Reads of a page's state that wait for merges of the page before one reads its rows instead. */
const READ_ATTEMPTS = 3;
/** How long one read waits for a merge's hold: a merge holds a page for its transaction, milliseconds to a few hundred. */
const READ_WAIT_MS = 1000;

async function readPageStateTrying(prisma: PrismaClient, slug: Slug, since: Uint8Array | undefined, attempts: number): Promise<PageState> {
  // An old name of a moved page: the page's state, flagged, so that an edge
  // opening the old name refuses connections (4411) and one still flushing
  // under it gets the state its answers are computed against.
  const movedTo = (await movedTargets(prisma, [slug])).get(slug);
  if (movedTo !== undefined) return { ...(await readPageStateTrying(prisma, movedTo, since, attempts)), slug, movedTo };
  const [head, page, claims] = await Promise.all([
    readPageHeads(prisma, [slug]).then((heads) => heads.get(slug)),
    prisma.page.findUnique({ where: { slug }, select: { protection: true, deletedAt: true } }),
    prisma.pageClientClaim.findMany({ where: { page: { slug } }, select: { clientId: true, author: true } }),
  ]);
  const cache = docCacheOf(prisma);
  let content = head && page ? cachedContent(prisma, head, since) : undefined;
  if (head && page && !content) {
    // A merge of this process holds the page, or has put back a version newer than the head read above.
    const newer = cache.isHeld(head.id) || (cache.versionOf(head.id) ?? -1n) > head.headSeq;
    if (newer && attempts > 1) {
      await cache.settled(head.id, READ_WAIT_MS);
      return readPageStateTrying(prisma, slug, since, attempts - 1);
    }
    cache.builds.read += 1;
    content = await storedContent(prisma, slug, since);
  }
  if (!content || !page) {
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
  const [deleted] = page.deletedAt ? await deletedAmong(prisma, [slug]) : [];
  return {
    slug,
    exists: true,
    protection: page.protection,
    // The state all the same: an edge still flushing the page's last edits needs it.
    deleted: deleted ? { reason: deleted.reason } : null,
    ...content,
    claims: claims.map((claim): [number, string] => [Number(claim.clientId), claim.author]),
  };
}

type PageContent = Pick<PageState, "state" | "stateVector" | "revision">;

/** From the merges' document at the page's head, if the cache holds it; read at once, before any await. */
function cachedContent(prisma: PrismaClient, head: PageHead, since: Uint8Array | undefined): PageContent | undefined {
  const cached = docCacheOf(prisma).peek(head.id, head.headSeq);
  // Structs waiting for what they follow are in the rows but not in an encoding of the document.
  if (!cached || cached.doc.store.pendingStructs || cached.doc.store.pendingDs) return undefined;
  return {
    state: toBase64(Y.encodeStateAsUpdate(cached.doc, since)),
    stateVector: toBase64(Y.encodeStateVector(cached.doc)),
    revision: Number(head.headSeq),
  };
}

/** From the base and the rows: a page no merge of this process holds. */
async function storedContent(prisma: PrismaClient, slug: Slug, since: Uint8Array | undefined): Promise<PageContent | undefined> {
  const stored = await readStoredPage(prisma, slug);
  if (!stored) return undefined;
  const state = pageUpdate(stored);
  return {
    state: toBase64(since ? Y.diffUpdate(state, since) : state),
    stateVector: toBase64(Y.encodeStateVectorFromUpdate(state)),
    revision: Number(headSeq(stored)),
  };
}
