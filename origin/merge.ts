import { randomUUID } from "node:crypto";
import * as Y from "yjs";
import { parseSlug, type Slug, SlugError, slugToTitle } from "../common/slug";
import { linkedSlugs } from "../common/wikilinks";
import { type FlushAnswer, type FlushAnswerPage, type FlushBatch, fromBase64, toBase64 } from "../edge/protocol/flush";
import { BadRequestError } from "./errors";
import type { PrismaClient } from "./generated/prisma/client";

type Transaction = Parameters<Parameters<PrismaClient["$transaction"]>[0]>[0];

/** A page of a batch once its bytes are decoded and checked. */
interface DecodedPage {
  slug: Slug;
  update: Uint8Array;
  stateVector: Uint8Array;
  editCount: number;
  authors: string[];
  logSequence: bigint | undefined;
}

export interface MergeResult {
  answer: FlushAnswer;
  /** Pages that got a new revision: the other PoPs should pull them. */
  changed: { slug: Slug; revision: number }[];
}

// The batch is one transaction; a 500-page batch on a busy Postgres can take
// seconds, and Prisma's default interactive timeout is 5 s.
const TRANSACTION_TIMEOUT_MS = 60_000;

/**
 * Merges one flush batch from an edge, in one transaction, idempotently: a
 * batch id already applied writes nothing and answers from the current state.
 * Per page it merges the Yjs update into the stored state, keeps the Markdown
 * text, a revision and the page's links, and answers what the sender lacks.
 */
export async function mergeBatch(prisma: PrismaClient, batch: FlushBatch): Promise<MergeResult> {
  const pages = decodePages(batch);
  const bytes = pages.reduce((sum, page) => sum + page.update.byteLength, 0);
  const editCount = pages.reduce((sum, page) => sum + page.editCount, 0);

  return prisma.$transaction(
    async (tx) => {
      const { count } = await tx.batch.createMany({
        data: [{ id: batch.batchId, pop: batch.pop, edge: batch.edge, pageCount: pages.length, editCount, bytes }],
        skipDuplicates: true,
      });
      const duplicate = count === 0;
      const answers: FlushAnswerPage[] = [];
      const changed: MergeResult["changed"] = [];
      // Pages are locked in slug order so that two batches touching the same
      // pages cannot deadlock.
      for (const page of [...pages].sort((a, b) => (a.slug < b.slug ? -1 : a.slug > b.slug ? 1 : 0))) {
        const outcome = duplicate ? await answerOnly(tx, page) : await mergePage(tx, batch, page);
        answers.push(outcome.answer);
        if (outcome.newRevision) changed.push({ slug: page.slug, revision: outcome.answer.revision });
      }
      return { answer: { batchId: batch.batchId, duplicate, pages: answers }, changed };
    },
    { timeout: TRANSACTION_TIMEOUT_MS, maxWait: TRANSACTION_TIMEOUT_MS },
  );
}

function decodePages(batch: FlushBatch): DecodedPage[] {
  const seen = new Set<string>();
  return batch.pages.map((page, index) => {
    const where = `pages[${index}] (${JSON.stringify(page.slug)})`;
    let slug: Slug;
    try {
      slug = parseSlug(page.slug);
    } catch (error) {
      if (error instanceof SlugError) throw new BadRequestError(`${where}: ${error.message}`);
      throw error;
    }
    if (seen.has(slug)) throw new BadRequestError(`${where}: the page appears twice in one batch; merge its updates first`);
    seen.add(slug);
    const update = fromBase64(page.update);
    const stateVector = fromBase64(page.stateVector);
    try {
      // Decoding walks every struct and delete set: a truncated or garbled
      // update fails here, before anything is written.
      Y.decodeUpdate(update);
    } catch (error) {
      throw new BadRequestError(`${where}: update is not a valid Yjs update (${(error as Error).message})`, { cause: error });
    }
    try {
      Y.decodeStateVector(stateVector);
    } catch (error) {
      throw new BadRequestError(`${where}: stateVector is not a valid Yjs state vector (${(error as Error).message})`, {
        cause: error,
      });
    }
    return {
      slug,
      update,
      stateVector,
      editCount: page.editCount,
      authors: [...new Set(page.authors)],
      logSequence: page.logSequence === undefined ? undefined : BigInt(page.logSequence),
    };
  });
}

interface LockedPage {
  id: string;
  state: Uint8Array;
  stateVector: Uint8Array;
  text: string;
  revisionCount: number;
}

async function lockPage(tx: Transaction, slug: Slug): Promise<LockedPage> {
  const empty = Y.encodeStateAsUpdate(new Y.Doc());
  const emptyVector = Y.encodeStateVector(new Y.Doc());
  await tx.$executeRaw`
    INSERT INTO "Page" (id, slug, title, state, "stateVector")
    VALUES (${randomUUID()}::uuid, ${slug}, ${slugToTitle(slug)}, ${empty}, ${emptyVector})
    ON CONFLICT (slug) DO NOTHING`;
  // Two origin processes merging the same page serialize here; without the
  // row lock the second would overwrite the first's merged state.
  const rows = await tx.$queryRaw<LockedPage[]>`
    SELECT id, state, "stateVector", text, "revisionCount" FROM "Page" WHERE slug = ${slug} FOR UPDATE`;
  const row = rows[0];
  if (!row) throw new Error(`page ${slug} vanished between insert and lock`);
  return row;
}

async function mergePage(
  tx: Transaction,
  batch: FlushBatch,
  page: DecodedPage,
): Promise<{ answer: FlushAnswerPage; newRevision: boolean }> {
  const stored = await lockPage(tx, page.slug);
  const doc = new Y.Doc();
  try {
    Y.applyUpdate(doc, stored.state);
    try {
      Y.applyUpdate(doc, page.update);
    } catch (error) {
      throw new BadRequestError(`page ${page.slug}: the update does not apply (${(error as Error).message})`, {
        cause: error,
      });
    }
    const text = doc.getText("body").toString();
    const stateVector = Y.encodeStateVector(doc);
    const state = Y.encodeStateAsUpdate(doc);
    const newRevision = text !== stored.text || !sameBytes(stateVector, stored.stateVector);
    let revision = stored.revisionCount;
    if (newRevision) {
      revision += 1;
      await tx.revision.create({
        data: {
          pageId: stored.id,
          number: revision,
          text,
          diff: forPrisma(page.update),
          editCount: page.editCount,
          authors: page.authors,
          pop: batch.pop,
          batchId: batch.batchId,
        },
        // Prisma returns the whole row by default: 5 KB of text and the diff back over the wire for nothing.
        select: { id: true },
      });
      const targets = linkedSlugs(text);
      // Most edits do not touch links: rewrite them only when they changed.
      if (!sameSet(targets, linkedSlugs(stored.text))) {
        await tx.link.deleteMany({ where: { fromId: stored.id } });
        if (targets.length > 0) {
          await tx.link.createMany({ data: targets.map((toSlug) => ({ fromId: stored.id, toSlug })) });
        }
      }
    }
    if (!newRevision && stored.revisionCount === 0) {
      // lockPage inserted the row for a page this batch turned out not to
      // change: a page exists from its first revision on, not before.
      await tx.page.delete({ where: { id: stored.id } });
      return { answer: answerFor(page, doc, 0), newRevision };
    }
    if (newRevision || !sameBytes(state, stored.state)) {
      await tx.page.update({
        where: { id: stored.id },
        data: { state: forPrisma(state), stateVector: forPrisma(stateVector), text, revisionCount: revision, updatedAt: new Date() },
        select: { id: true },
      });
    }
    if (page.logSequence !== undefined) await recordCheckpoint(tx, batch.pop, stored.id, page.logSequence);
    return { answer: answerFor(page, doc, revision), newRevision };
  } finally {
    doc.destroy();
  }
}

async function answerOnly(tx: Transaction, page: DecodedPage): Promise<{ answer: FlushAnswerPage; newRevision: false }> {
  const stored = await tx.page.findUnique({ where: { slug: page.slug }, select: { state: true, revisionCount: true } });
  const doc = new Y.Doc();
  try {
    if (stored) Y.applyUpdate(doc, stored.state);
    return { answer: answerFor(page, doc, stored?.revisionCount ?? 0), newRevision: false };
  } finally {
    doc.destroy();
  }
}

function answerFor(page: DecodedPage, doc: Y.Doc, revision: number): FlushAnswerPage {
  return {
    slug: page.slug,
    stateVector: toBase64(Y.encodeStateVector(doc)),
    missing: toBase64(Y.encodeStateAsUpdate(doc, page.stateVector)),
    revision,
  };
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

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((item) => b.includes(item));
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && Buffer.compare(a, b) === 0;
}
