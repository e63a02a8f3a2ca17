import type { Slug } from "../common/slug";
import type { DeletedPage, DeletionNotice } from "../protocol/deletions";
import type { Identity } from "../protocol/token";
import { requireNotBlocked } from "./blocks";
import { movedTargets } from "./moves";
import { ConflictError, ForbiddenError, NotFoundError, PageDeletedError } from "./errors";
import type { PrismaClient } from "./generated/prisma/client";

export const DELETIONS_DEFAULT_LIMIT = 50;
export const DELETIONS_MAX_LIMIT = 500;

/** One entry of the deletion log, as the admin page and GET /api/deletions show it. */
export interface DeletionEntry {
  id: string;
  slug: string;
  title: string;
  action: "delete" | "undelete";
  reason: string;
  /** The admin; null once that account is deleted. */
  by: string | null;
  at: string;
}

type EntryRow = {
  id: string;
  action: "delete" | "undelete";
  reason: string;
  createdAt: Date;
  page: { slug: string; title: string };
  by: { name: string } | null;
};

const ENTRY = { page: { select: { slug: true, title: true } }, by: { select: { name: true } } } as const;

function entryOf(row: EntryRow): DeletionEntry {
  return {
    id: row.id,
    slug: row.page.slug,
    title: row.page.title,
    action: row.action,
    reason: row.reason,
    by: row.by?.name ?? null,
    at: row.createdAt.toISOString(),
  };
}

/** Only an admin who is not blocked may delete or undelete. */
async function requireAdmin(prisma: PrismaClient, by: Identity, action: string): Promise<void> {
  if (by.role !== "admin") throw new ForbiddenError(`only an admin may ${action}; ${by.name} is ${by.role}`);
  await requireNotBlocked(prisma, by);
}

/**
 * Deletes a page, MediaWiki style: readers, search and links see it gone and
 * every edge closes its connections (the notice answered here, and each
 * edge's recheck), but nothing of it is dropped. Its row, every flush and
 * every revision stay, and a flush that reaches the origin after this (an
 * edit an edge acknowledged just before) is stored in that history too
 * rather than refused: undelete brings all of it back.
 */
export async function deletePage(
  prisma: PrismaClient,
  options: { slug: Slug; reason: string; by: Identity; now?: Date },
): Promise<{ entry: DeletionEntry; notice: DeletionNotice }> {
  await requireAdmin(prisma, options.by, "delete a page");
  const now = options.now ?? new Date();
  const row = await prisma.$transaction(async (tx) => {
    // Only a page not deleted yet: two admins deleting at once log one deletion.
    const { count } = await tx.page.updateMany({ where: { slug: options.slug, deletedAt: null }, data: { deletedAt: now } });
    const page = await tx.page.findUnique({ where: { slug: options.slug }, select: { id: true } });
    if (!page) throw new NotFoundError(`no page ${options.slug} to delete: a page exists once it has a revision`);
    if (count === 0) throw new ConflictError(`${options.slug} is already deleted: see the deletion log, or undelete it first`);
    return tx.pageDeletion.create({
      data: { pageId: page.id, action: "delete", reason: options.reason, byId: options.by.userId, createdAt: now },
      include: ENTRY,
    });
  });
  return { entry: entryOf(row), notice: { kind: "deleted", page: { slug: options.slug, reason: options.reason } } };
}

/** Undeletes a page: its text, history and links are as they were, with every flush stored while it was deleted. */
export async function undeletePage(
  prisma: PrismaClient,
  options: { slug: Slug; reason: string; by: Identity; now?: Date },
): Promise<{ entry: DeletionEntry; notice: DeletionNotice }> {
  await requireAdmin(prisma, options.by, "undelete a page");
  const now = options.now ?? new Date();
  const row = await prisma.$transaction(async (tx) => {
    const { count } = await tx.page.updateMany({ where: { slug: options.slug, deletedAt: { not: null } }, data: { deletedAt: null } });
    const page = await tx.page.findUnique({ where: { slug: options.slug }, select: { id: true } });
    if (!page) throw new NotFoundError(`no page ${options.slug} to undelete`);
    if (count === 0) throw new ConflictError(`${options.slug} is not deleted`);
    return tx.pageDeletion.create({
      data: { pageId: page.id, action: "undelete", reason: options.reason, byId: options.by.userId, createdAt: now },
      include: ENTRY,
    });
  });
  return { entry: entryOf(row), notice: { kind: "undeleted", slug: options.slug } };
}

/** The deletion log, newest first; of one page when `slug` is given. Admins only. */
export async function listDeletions(
  prisma: PrismaClient,
  options: { by: Identity; slug?: Slug; limit?: number },
): Promise<DeletionEntry[]> {
  if (options.by.role !== "admin") throw new ForbiddenError(`only an admin may read the deletion log; ${options.by.name} is ${options.by.role}`);
  const rows = await prisma.pageDeletion.findMany({
    where: options.slug === undefined ? {} : { page: { slug: options.slug } },
    include: ENTRY,
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: Math.min(options.limit ?? DELETIONS_DEFAULT_LIMIT, DELETIONS_MAX_LIMIT),
  });
  return rows.map(entryOf);
}

/** Which of `slugs` are deleted now, each with the reason of its newest deletion: what the edges ask about the pages they hold. */
export async function deletedAmong(prisma: PrismaClient, slugs: readonly string[]): Promise<DeletedPage[]> {
  if (slugs.length === 0) return [];
  const pages = await prisma.page.findMany({
    where: { slug: { in: [...slugs] }, deletedAt: { not: null } },
    select: { slug: true, deletions: { where: { action: "delete" }, orderBy: { createdAt: "desc" }, take: 1, select: { reason: true } } },
  });
  const deleted: DeletedPage[] = pages.map((page) => ({ slug: page.slug, reason: page.deletions[0]?.reason ?? "" }));
  // Old names of moved pages are gone from the edges too, pointing at the page's name now.
  for (const [slug, to] of await movedTargets(prisma, slugs)) deleted.push({ slug, reason: "", movedTo: to });
  return deleted;
}

/** Refuses (410 `deleted`) a read of a page an admin deleted. */
export function requireNotDeleted(page: { deletedAt: Date | null }, slug: Slug): void {
  if (page.deletedAt) {
    throw new PageDeletedError(`${slug} was deleted by an admin at ${page.deletedAt.toISOString()}: admins can read why in the deletion log and undelete it`);
  }
}
