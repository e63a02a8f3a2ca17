import type { Slug } from "../common/slug";
import { NotFoundError } from "./errors";
import { Prisma, type PrismaClient } from "./generated/prisma/client";

export const HISTORY_DEFAULT_LIMIT = 50;
export const HISTORY_MAX_LIMIT = 500;

/** One merged flush of a page, as its history lists it. */
export interface RevisionSummary {
  number: number;
  createdAt: string;
  authors: string[];
  editCount: number;
  pop: string;
  batchId: string;
  /** Size of the revision's text in UTF-8 bytes. */
  bytes: number;
}

export interface RevisionView extends RevisionSummary {
  text: string;
}

interface RevisionRow {
  number: number;
  createdAt: Date;
  authors: string[];
  editCount: number;
  pop: string;
  batchId: string;
  bytes: number;
}

/** A page's revisions, newest first; `before` pages back through older ones. */
export async function listRevisions(
  prisma: PrismaClient,
  options: { slug: Slug; limit?: number; before?: number },
): Promise<RevisionSummary[]> {
  const limit = Math.min(options.limit ?? HISTORY_DEFAULT_LIMIT, HISTORY_MAX_LIMIT);
  const page = await findPage(prisma, options.slug);
  const older = options.before === undefined ? Prisma.empty : Prisma.sql`AND number < ${options.before}`;
  // Raw for octet_length: the history shows sizes without reading every text.
  const rows = await prisma.$queryRaw<RevisionRow[]>`
    SELECT number, "createdAt", authors, "editCount", pop, "batchId", octet_length(text)::int AS bytes
    FROM "Revision"
    WHERE "pageId" = ${page.id}::uuid ${older}
    ORDER BY number DESC
    LIMIT ${limit}`;
  return rows.map((row) => ({
    number: row.number,
    createdAt: row.createdAt.toISOString(),
    authors: row.authors,
    editCount: row.editCount,
    pop: row.pop,
    batchId: row.batchId,
    bytes: row.bytes,
  }));
}

export async function getRevision(prisma: PrismaClient, options: { slug: Slug; number: number }): Promise<RevisionView> {
  const page = await findPage(prisma, options.slug);
  const revision = await prisma.revision.findUnique({
    where: { pageId_number: { pageId: page.id, number: options.number } },
    select: { number: true, createdAt: true, authors: true, editCount: true, pop: true, batchId: true, text: true },
  });
  if (!revision) {
    const range = page.revisionCount === 0 ? "it has none yet" : `its revisions are 1 to ${page.revisionCount}`;
    throw new NotFoundError(`page ${options.slug} has no revision ${options.number}: ${range}`);
  }
  return {
    number: revision.number,
    createdAt: revision.createdAt.toISOString(),
    authors: revision.authors,
    editCount: revision.editCount,
    pop: revision.pop,
    batchId: revision.batchId,
    bytes: Buffer.byteLength(revision.text, "utf8"),
    text: revision.text,
  };
}

async function findPage(prisma: PrismaClient, slug: Slug): Promise<{ id: string; revisionCount: number }> {
  const page = await prisma.page.findUnique({ where: { slug }, select: { id: true, revisionCount: true } });
  if (!page) throw new NotFoundError(`no page ${slug}, so no history: check the slug`);
  return page;
}
