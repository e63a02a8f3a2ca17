import type { Slug } from "../common/slug";
import { requireNotDeleted } from "./deletion";
import { NotFoundError } from "./errors";
import { requireNotMoved } from "./moves";
import { Prisma, type PrismaClient } from "./generated/prisma/client";
import type { Transaction } from "./page-log";
import { applyTextDelta, parseTextDelta } from "./text-delta";

export const HISTORY_DEFAULT_LIMIT = 50;
export const HISTORY_MAX_LIMIT = 500;

/** One revision of a page (consecutive flushes grouped), as its history lists it. */
export interface RevisionSummary {
  number: number;
  /** Its first flush. */
  createdAt: string;
  /** Its newest flush. */
  updatedAt: string;
  authors: string[];
  editCount: number;
  /** The PoPs whose flushes it holds. */
  pops: string[];
  /** Size of the revision's text in UTF-8 bytes. */
  bytes: number;
}

export interface RevisionView extends RevisionSummary {
  text: string;
}

const SUMMARY = { number: true, createdAt: true, updatedAt: true, authors: true, editCount: true, pops: true, bytes: true } as const;

function summary(row: Prisma.RevisionGetPayload<{ select: typeof SUMMARY }>): RevisionSummary {
  return { ...row, createdAt: row.createdAt.toISOString(), updatedAt: row.updatedAt.toISOString() };
}

/** A page's revisions, newest first; `before` pages back through older ones. */
export async function listRevisions(
  prisma: PrismaClient,
  options: { slug: Slug; limit?: number; before?: number },
): Promise<RevisionSummary[]> {
  const limit = Math.min(options.limit ?? HISTORY_DEFAULT_LIMIT, HISTORY_MAX_LIMIT);
  const page = await findPage(prisma, options.slug);
  const rows = await prisma.revision.findMany({
    where: { pageId: page.id, ...(options.before === undefined ? {} : { number: { lt: options.before } }) },
    orderBy: { number: "desc" },
    take: limit,
    select: SUMMARY,
  });
  return rows.map(summary);
}

export async function getRevision(prisma: PrismaClient, options: { slug: Slug; number: number }): Promise<RevisionView> {
  const page = await findPage(prisma, options.slug);
  const revision = await prisma.revision.findUnique({
    where: { pageId_number: { pageId: page.id, number: options.number } },
    select: SUMMARY,
  });
  if (!revision) {
    const range = page.revisionCount === 0 ? "it has none yet" : `its revisions are 1 to ${page.revisionCount}`;
    throw new NotFoundError(`page ${options.slug} has no revision ${options.number}: ${range}`);
  }
  return { ...summary(revision), text: await revisionText(prisma, page.id, options.number) };
}

/**
 * A revision's text: the newest snapshot at or before it, then each delta up
 * to it; the newest revision, still open, has the page's text.
 */
export async function revisionText(db: PrismaClient | Transaction, pageId: string, number: number): Promise<string> {
  const rows = await db.$queryRaw<{ number: number; snapshot: string | null; delta: string | null; text: string }[]>`
    SELECT r.number, r.snapshot, r.delta, p.text
    FROM "Revision" r JOIN "Page" p ON p.id = r."pageId"
    WHERE r."pageId" = ${pageId}::uuid AND r.number <= ${number}
      AND r.number >= COALESCE((
        SELECT max(number) FROM "Revision" WHERE "pageId" = ${pageId}::uuid AND number <= ${number} AND snapshot IS NOT NULL
      ), 1)
    ORDER BY r.number`;
  const last = rows.at(-1);
  if (!last || last.number !== number) throw new NotFoundError(`revision ${number} of page ${pageId} is not stored`);
  if (last.snapshot === null && last.delta === null) return last.text;
  let text = "";
  for (const row of rows) {
    if (row.snapshot !== null) text = row.snapshot;
    else if (row.delta !== null) text = applyTextDelta(text, parseTextDelta(row.delta));
    else throw new Error(`revision ${row.number} of page ${pageId} has no text although a newer one exists`);
  }
  return text;
}

async function findPage(prisma: PrismaClient, slug: Slug): Promise<{ id: string; revisionCount: number }> {
  const page = await prisma.page.findUnique({ where: { slug }, select: { id: true, revisionCount: true, deletedAt: true } });
  if (!page) {
    await requireNotMoved(prisma, slug);
    throw new NotFoundError(`no page ${slug}, so no history: check the slug`);
  }
  // Kept for undelete, hidden until then.
  requireNotDeleted(page, slug);
  return page;
}
