import { randomUUID } from "node:crypto";
import * as Y from "yjs";
import { type Slug, slugToTitle } from "../common/slug";
import { type FlushAnswer, type FlushAnswerPage, type FlushBatch, fromBase64, toBase64 } from "../protocol/flush";
import { BadRequestError, UnprocessableError } from "./errors";
import type { PrismaClient } from "./generated/prisma/client";
import { type CachedDoc, type DocCache, docCacheOf } from "./doc-cache";
import { type DecodedPage, decodePages, underCurrentNames } from "./flush-pages";
import { movedTargets } from "./moves";
import { lockPages, type PageHead, pageDoc, readPageHeads, readStoredPages, type Transaction } from "./page-log";
import { conflictingClients, withoutClients } from "../common/client-structs";

/** Structs of a flush left out of the merge for their Yjs client ids (issue 18). */
export interface RefusedClients {
  slug: Slug;
  /** "claimed": the origin knows the id as another user's; "conflict": other content at clocks the origin holds. */
  reason: "claimed" | "conflict";
  clients: number[];
}

export interface MergeResult {
  answer: FlushAnswer;
  /** Pages the batch changed, with their new version: the other PoPs should pull them. */
  changed: { slug: Slug; revision: number }[];
  /** What was left out of the merge, for the log and the metrics; the rest of each page and of the batch landed. */
  refused: RefusedClients[];
}

/**
 * A page's encoded Yjs state may not grow past this. Edges refuse such
 * writes first (EDGE_MAX_PAGE_BYTES, below it); this is the origin's own
 * bound, for an edge configured otherwise or an old one.
 */
export const DEFAULT_MAX_PAGE_BYTES = 4 * 1024 * 1024;

// The batch is one transaction; a 500-page batch on a busy Postgres can take
// seconds, and Prisma's default interactive timeout is 5 s.
const TRANSACTION_TIMEOUT_MS = 60_000;

/** What merging one page decided, before anything is written. */
interface PageOutcome {
  page: DecodedPage;
  head: PageHead | undefined;
  /** What the batch added to the origin's document (undefined: nothing). */
  added: Uint8Array | undefined;
  answer: FlushAnswerPage;
  /** The page's document after the merge, for the cache once the transaction committed. */
  merged: CachedDoc;
  refused: RefusedClients[];
  /** Claims this flush makes for ids nobody had claimed. */
  newClaims: [number, string][];
}

/**
 * Merges one flush batch from an edge, in one transaction, idempotently: a
 * batch id already applied writes nothing and answers from the current state.
 * Per page it appends what the update adds to the origin's document as one
 * PageUpdate row (in proportion to the diff, whatever the page's size) and
 * answers what the sender lacks. The page's text, search vector, links and
 * revisions are refreshed off this path (origin/text-refresh.ts), and the
 * rows are compacted into the page's base there too.
 */
export async function mergeBatch(
  prisma: PrismaClient,
  batch: FlushBatch,
  options: { maxPageBytes?: number } = {},
): Promise<MergeResult> {
  const maxPageBytes = options.maxPageBytes ?? DEFAULT_MAX_PAGE_BYTES;
  const sent = decodePages(batch);
  const bytes = sent.reduce((sum, page) => sum + page.update.byteLength, 0);
  const editCount = sent.reduce((sum, page) => sum + page.editCount, 0);

  const cache = docCacheOf(prisma);
  // Documents taken out of the cache or built for this batch: back into the
  // cache at their new version once committed, destroyed otherwise.
  const held: { pageId: string; entry: CachedDoc }[] = [];
  let committed: MergeResult & { outcomes: PageOutcome[]; pageIds: Map<string, string> };
  try {
    committed = await prisma.$transaction(
      async (tx) => {
        const { count } = await tx.batch.createMany({
          data: [{ id: batch.batchId, pop: batch.pop, edge: batch.edge, pageCount: sent.length, editCount, bytes }],
          skipDuplicates: true,
        });
        const duplicate = count === 0;
        const sentSlugs = sent.map((page) => page.slug);
        if (!duplicate) await lockPages(tx, sentSlugs);
        // Old names of moved pages (read under their locks, which a move takes
        // too): what an edge flushes under one belongs to the page, by its
        // name now (origin/moves.ts).
        const moved = await movedTargets(tx, sentSlugs);
        if (!duplicate && moved.size > 0) await lockPages(tx, [...new Set(moved.values())].filter((slug) => !sentSlugs.includes(slug)));
        const pages = underCurrentNames(sent, moved);
        const slugs = pages.map((page) => page.slug);
        const docs = await pageDocs(tx, cache, slugs, held);
        const claimsOf = (slug: Slug) => ({ pageId: docs.get(slug)!.head?.id, clients: [...pages.find((page) => page.slug === slug)!.structs.ranges.keys()] });
        const stored = await readClaims(tx, slugs.map(claimsOf));
        const outcomes = pages.map((page) => {
          const { head, entry } = docs.get(page.slug)!;
          const claims = (head && stored.get(head.id)) || new Map<number, string>();
          return duplicate ? answerOnly(page, head, entry) : mergePage(page, head, entry, maxPageBytes, claims);
        });
        const { changed, pageIds } = duplicate ? { changed: [], pageIds: new Map<string, string>() } : await writeOutcomes(tx, batch, outcomes);
        await answerClaims(tx, outcomes, pageIds);
        const refused = outcomes.flatMap((outcome) => outcome.refused);
        return { answer: { batchId: batch.batchId, duplicate, pages: answersAsSent(sent, moved, outcomes) }, changed, refused, outcomes, pageIds };
      },
      { timeout: TRANSACTION_TIMEOUT_MS, maxWait: TRANSACTION_TIMEOUT_MS },
    );
  } catch (error) {
    for (const { pageId, entry } of held) {
      entry.doc.destroy();
      cache.release(pageId);
    }
    throw error;
  }
  for (const outcome of committed.outcomes) {
    const pageId = outcome.head?.id ?? committed.pageIds.get(outcome.page.slug);
    if (pageId) cache.put(pageId, outcome.merged);
    else outcome.merged.doc.destroy();
  }
  // Every page this merge took is released, put back or not.
  for (const { pageId } of held) cache.release(pageId);
  return { answer: committed.answer, changed: committed.changed, refused: committed.refused };
}

/** The stored claims of some client ids of some pages (pages not created yet have none). */
async function readClaims(tx: Transaction, wanted: { pageId: string | undefined; clients: number[] }[]): Promise<Map<string, Map<number, string>>> {
  const where = wanted.flatMap(({ pageId, clients }) => (pageId && clients.length > 0 ? [{ pageId, clientId: { in: clients.map(BigInt) } }] : []));
  const claims = new Map<string, Map<number, string>>();
  if (where.length === 0) return claims;
  for (const row of await tx.pageClientClaim.findMany({ where: { OR: where } })) {
    let page = claims.get(row.pageId);
    if (!page) claims.set(row.pageId, (page = new Map()));
    page.set(Number(row.clientId), row.author);
  }
  return claims;
}

/**
 * Each answer names the claims of the client ids in what it tells the edge
 * it lacks, and of those it refused, so the sending PoP learns what the
 * origin settled (the PoPs meet only here).
 */
async function answerClaims(tx: Transaction, outcomes: PageOutcome[], pageIds: Map<string, string>): Promise<void> {
  const wanted = outcomes.map((outcome) => {
    const clients = new Set(Y.parseUpdateMeta(fromBase64(outcome.answer.missing)).from.keys());
    for (const refused of outcome.refused) for (const client of refused.clients) clients.add(client);
    return { pageId: outcome.head?.id ?? pageIds.get(outcome.page.slug), clients: [...clients] };
  });
  const stored = await readClaims(tx, wanted);
  outcomes.forEach((outcome, i) => {
    const claims = new Map(stored.get(wanted[i]!.pageId ?? "") ?? []);
    for (const [client, author] of outcome.newClaims) claims.set(client, author);
    if (claims.size > 0) outcome.answer.claims = [...claims];
  });
}

/**
 * Each page's document at its current version: from the cache when it holds
 * that version, else built from the base and the rows. Everything handed
 * out is recorded in `held`. Under the pages' locks: a page another merge of
 * this process still holds has committed (its lock is ours now) and is being
 * put back, so it is waited for, not built again.
 */
async function pageDocs(
  tx: Transaction,
  cache: DocCache,
  slugs: readonly Slug[],
  held: { pageId: string; entry: CachedDoc }[],
): Promise<Map<string, { head: PageHead | undefined; entry: CachedDoc }>> {
  const heads = await readPageHeads(tx, slugs);
  const docs = new Map<string, { head: PageHead | undefined; entry: CachedDoc }>();
  const misses: string[] = [];
  for (const slug of slugs) {
    const head = heads.get(slug);
    if (head && cache.isHeld(head.id)) await cache.settled(head.id);
    const entry = head ? cache.take(head.id, head.headSeq) : undefined;
    if (!entry) {
      misses.push(slug);
      continue;
    }
    // Recorded at once: a failure before the batch ends must still release it.
    held.push({ pageId: head!.id, entry });
    docs.set(slug, { head, entry });
  }
  cache.builds.merge += misses.filter((slug) => heads.has(slug)).length;
  const stored = await readStoredPages(tx, misses.filter((slug) => heads.has(slug)));
  for (const slug of misses) {
    const page = stored.get(slug);
    const bytes = page ? page.updates.reduce((sum, row) => sum + row.update.byteLength, page.state.byteLength) : 0;
    const entry = { doc: pageDoc(page), seq: heads.get(slug)?.headSeq ?? 0n, bytes };
    held.push({ pageId: heads.get(slug)?.id ?? slug, entry });
    docs.set(slug, { head: heads.get(slug), entry });
  }
  return docs;
}

/** One answer per page as sent, under the name it was sent as: the edge matches answers by that name. */
function answersAsSent(sent: DecodedPage[], moved: Map<string, Slug>, outcomes: PageOutcome[]): FlushAnswerPage[] {
  if (moved.size === 0) return outcomes.map((outcome) => outcome.answer);
  const byName = new Map(outcomes.map((outcome) => [outcome.page.slug, outcome]));
  return sent.map((page) => {
    const outcome = byName.get(moved.get(page.slug) ?? page.slug)!;
    const answer = answerFor(page, outcome.merged.doc, BigInt(outcome.answer.revision));
    return outcome.answer.claims ? { ...answer, claims: outcome.answer.claims } : answer;
  });
}

/**
 * Which client ids' structs a flush may not bring (issue 18): those it says
 * are one user's where the origin knows them as another's, and those that
 * say something else about clocks the origin holds. Left out, the rest of
 * the page's update still lands; the sending edge learns the origin's
 * claims and content from the answer.
 */
function refusedClients(page: DecodedPage, doc: Y.Doc, claims: Map<number, string>): { refused: RefusedClients[]; newClaims: [number, string][] } {
  const claimed: number[] = [];
  const newClaims: [number, string][] = [];
  for (const client of page.structs.ranges.keys()) {
    const author = page.claims.get(client);
    const owner = claims.get(client);
    if (author === undefined) continue;
    if (owner === undefined) newClaims.push([client, author]);
    else if (owner !== author && page.structs.ranges.get(client)!.to > Y.getState(doc.store, client)) claimed.push(client);
  }
  const conflicting = conflictingClients(doc, page.structs).filter((client) => !claimed.includes(client));
  const refused: RefusedClients[] = [];
  if (claimed.length > 0) refused.push({ slug: page.slug, reason: "claimed", clients: claimed });
  if (conflicting.length > 0) refused.push({ slug: page.slug, reason: "conflict", clients: conflicting });
  const out = new Set([...claimed, ...conflicting]);
  return { refused, newClaims: newClaims.filter(([client]) => !out.has(client)) };
}

function mergePage(page: DecodedPage, head: PageHead | undefined, entry: CachedDoc, maxPageBytes: number, claims: Map<number, string>): PageOutcome {
  const { doc } = entry;
  const { refused, newClaims } = refusedClients(page, doc, claims);
  const update = refused.length > 0 ? withoutClients(page.update, refused.flatMap((r) => r.clients)) : page.update;
  {
    // Yjs reports what a transaction really added (new structs, new
    // deletions) as its "update" event: exactly what the origin lacked,
    // however much of the edge's diff it already had (a retried flush, the
    // whole delete set every diff carries).
    let added: Uint8Array | undefined;
    const onUpdate = (update: Uint8Array) => (added = update);
    doc.on("update", onUpdate);
    try {
      Y.applyUpdate(doc, update);
    } catch (error) {
      throw new BadRequestError(`page ${page.slug}: the update does not apply (${(error as Error).message})`, { cause: error });
    } finally {
      doc.off("update", onUpdate);
    }
    if (doc.store.pendingStructs || doc.store.pendingDs) {
      // Structs whose predecessors the origin lacks wait inside the document
      // and emit nothing; keep the edge's whole update so they are not lost,
      // and they apply once what they wait for arrives.
      added = update;
    }
    if (added && entry.bytes + added.byteLength > maxPageBytes) {
      // The stored bytes bound the page's size from above; only near the
      // limit is the exact size worth an encode of the whole page.
      const bytes = Y.encodeStateAsUpdate(doc).byteLength;
      if (bytes > maxPageBytes) {
        throw new UnprocessableError(
          "page_too_large",
          `page ${page.slug} would hold ${bytes} bytes of Yjs state, over the origin's limit of ${maxPageBytes} (ORIGIN_MAX_PAGE_BYTES): split the page`,
        );
      }
    }
    const version = added ? entry.seq + 1n : entry.seq;
    const merged = { doc, seq: version, bytes: entry.bytes + (added?.byteLength ?? 0) };
    return { page, head, added, answer: answerFor(page, doc, version), merged, refused, newClaims };
  }
}

function answerOnly(page: DecodedPage, head: PageHead | undefined, entry: CachedDoc): PageOutcome {
  return { page, head, added: undefined, answer: answerFor(page, entry.doc, entry.seq), merged: entry, refused: [], newClaims: [] };
}

function answerFor(page: DecodedPage, doc: Y.Doc, version: bigint): FlushAnswerPage {
  return {
    slug: page.slug,
    stateVector: toBase64(Y.encodeStateVector(doc)),
    missing: toBase64(Y.encodeStateAsUpdate(doc, page.stateVector)),
    revision: Number(version),
  };
}

/** Creates the pages the batch brought into being, appends one row per changed page, moves the PoP's checkpoints. */
async function writeOutcomes(
  tx: Transaction,
  batch: FlushBatch,
  outcomes: PageOutcome[],
): Promise<{ changed: MergeResult["changed"]; pageIds: Map<string, string> }> {
  const empty = new Y.Doc();
  const created = outcomes
    .filter((outcome) => outcome.added && !outcome.head)
    .map((outcome) => ({
      id: randomUUID(),
      slug: outcome.page.slug,
      title: slugToTitle(outcome.page.slug),
      state: forPrisma(Y.encodeStateAsUpdate(empty)),
      stateVector: forPrisma(Y.encodeStateVector(empty)),
    }));
  empty.destroy();
  // A page exists from its first flush that changed it on, not before. A
  // deleted page keeps its row (and so its head): its flushes are appended
  // to its history like any other, for undelete, and never create it anew
  // or clear its deletedAt (origin/deletion.ts).
  if (created.length > 0) await tx.page.createMany({ data: created });
  const pageIds = new Map<string, string>([
    ...created.map((page) => [page.slug, page.id] as const),
    ...outcomes.flatMap((outcome) => (outcome.head ? [[outcome.page.slug, outcome.head.id] as const] : [])),
  ]);

  const appended = outcomes.filter((outcome) => outcome.added);
  if (appended.length > 0) {
    await tx.pageUpdate.createMany({
      data: appended.map((outcome) => ({
        pageId: pageIds.get(outcome.page.slug)!,
        seq: BigInt(outcome.answer.revision),
        update: forPrisma(outcome.added!),
        editCount: outcome.page.editCount,
        authors: outcome.page.authors,
        pop: batch.pop,
        batchId: batch.batchId,
      })),
    });
  }
  const claims = outcomes.flatMap((outcome) => {
    const pageId = pageIds.get(outcome.page.slug);
    return pageId ? outcome.newClaims.map(([client, author]) => ({ pageId, clientId: BigInt(client), author })) : [];
  });
  // The page's advisory lock orders its flushes: the first claim wins.
  if (claims.length > 0) await tx.pageClientClaim.createMany({ data: claims, skipDuplicates: true });
  for (const outcome of outcomes) {
    const pageId = pageIds.get(outcome.page.slug);
    if (outcome.page.logSequence !== undefined && pageId) await recordCheckpoint(tx, batch.pop, pageId, outcome.page.logSequence);
  }
  return { changed: appended.map((outcome) => ({ slug: outcome.page.slug, revision: outcome.answer.revision })), pageIds };
}

async function recordCheckpoint(tx: Transaction, pop: string, pageId: string, sequence: bigint): Promise<void> {
  // GREATEST: a late, smaller sequence (a retried older batch) never moves the
  // checkpoint back.
  await tx.$executeRaw`
    INSERT INTO "PopCheckpoint" (pop, "pageId", sequence, "updatedAt")
    VALUES (${pop}, ${pageId}::uuid, ${sequence}, now())
    ON CONFLICT (pop, "pageId") DO UPDATE
      SET sequence = GREATEST("PopCheckpoint".sequence, EXCLUDED.sequence), "updatedAt" = now()`;
}

// Yjs and our base64 decoder allocate plain ArrayBuffers; Prisma's Bytes type
// just insists on saying so.
function forPrisma(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes as Uint8Array<ArrayBuffer>;
}
