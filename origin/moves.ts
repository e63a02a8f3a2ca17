import { type Slug, slugToTitle } from "../common/slug";
import { writePermission } from "../common/write-permission";
import type { DeletionNotice } from "../protocol/deletions";
import type { Identity } from "../protocol/token";
import { requireNotBlocked } from "./blocks";
import { BadRequestError, ConflictError, ForbiddenError, NotFoundError, PageMovedError } from "./errors";
import type { PrismaClient } from "./generated/prisma/client";
import { lockPages } from "./page-log";

type Db = Pick<PrismaClient, "pageAlias">;

/** One entry of a page's move log. */
export interface MoveEntry {
  from: string;
  to: string;
  by: string;
  reason: string;
  at: string;
}

/**
 * Moves (renames) a page, as a wiki does: the page keeps its row, its Yjs
 * document, its history and its watchers under `to`, and `from` becomes an
 * alias of it (PageAlias), so that links, bookmarks and the edges that still
 * hold the page under its old name all land on it:
 * - reads of `from` answer 301 `moved` naming `to`, the page view redirects;
 * - a flush an edge sends under `from` (edits it acknowledged before it heard
 *   of the move) is merged into the page (origin/merge.ts), so nothing
 *   acknowledged is lost;
 * - the returned notice tells every edge (the same channel as deletions), and
 *   each edge closes the old name's connections with 4411 naming `to`: the
 *   wiki's editor reconnects its document there, a stock client stops.
 *
 * Anyone who may edit the page may move it (admins for a protected page), to
 * a name no page has. Moving back to an old name of the same page drops
 * that alias. An alias cannot be created as a new page (a flush under it
 * lands on the moved page), so old names stay redirects.
 */
export async function movePage(
  prisma: PrismaClient,
  options: { from: Slug; to: Slug; reason: string; by: Identity; now?: Date },
): Promise<{ move: MoveEntry; notice: DeletionNotice }> {
  const { from, to, by } = options;
  if (from === to) throw new BadRequestError(`${from} is already called that: give another name`);
  await requireNotBlocked(prisma, by);
  const now = options.now ?? new Date();
  const move = await prisma.$transaction(async (tx) => {
    // The same locks as a flush of either name: no flush merges under `from`
    // while it changes hands, and none creates `to` meanwhile.
    await lockPages(tx, [from, to]);
    const page = await tx.page.findUnique({ where: { slug: from }, select: { id: true, protection: true, deletedAt: true } });
    if (!page) {
      const alias = await tx.pageAlias.findUnique({ where: { slug: from }, select: { page: { select: { slug: true } } } });
      if (alias) throw new PageMovedError(from, alias.page.slug);
      throw new NotFoundError(`no page ${from} to move: a page exists once it has a revision`);
    }
    if (page.deletedAt) throw new ConflictError(`${from} is deleted: an admin must undelete it before it can be moved`);
    const permission = writePermission(by, page.protection);
    if (!permission.canWrite) throw new ForbiddenError(`${by.name} may not move ${from}: ${permission.reason}`);
    if (await tx.page.findUnique({ where: { slug: to }, select: { id: true } })) {
      throw new ConflictError(`a page named ${to} exists: choose another name, or ask an admin to delete that page first`);
    }
    const taken = await tx.pageAlias.findUnique({ where: { slug: to }, select: { pageId: true, page: { select: { slug: true } } } });
    if (taken && taken.pageId !== page.id) {
      throw new ConflictError(`${to} is an old name of ${taken.page.slug} (it redirects there): choose another name`);
    }
    if (taken) await tx.pageAlias.delete({ where: { slug: to } });
    await tx.page.update({ where: { id: page.id }, data: { slug: to, title: slugToTitle(to) } });
    await tx.pageAlias.create({ data: { slug: from, pageId: page.id } });
    // Search finds the page by its new title at once; its text is unchanged.
    await tx.$executeRaw`UPDATE "PageSearch" SET title = ${slugToTitle(to)} WHERE "pageId" = ${page.id}::uuid`;
    return tx.pageMove.create({ data: { pageId: page.id, fromSlug: from, toSlug: to, byName: by.name, reason: options.reason, createdAt: now } });
  });
  return {
    move: entryOf(move),
    notice: { kind: "moved", slug: from, to },
  };
}

function entryOf(row: { fromSlug: string; toSlug: string; byName: string; reason: string; createdAt: Date }): MoveEntry {
  return { from: row.fromSlug, to: row.toSlug, by: row.byName, reason: row.reason, at: row.createdAt.toISOString() };
}

/** The current names of those of `slugs` that are old names of moved pages. */
export async function movedTargets(db: Db, slugs: readonly string[]): Promise<Map<string, Slug>> {
  if (slugs.length === 0) return new Map();
  const rows = await db.pageAlias.findMany({ where: { slug: { in: [...slugs] } }, select: { slug: true, page: { select: { slug: true } } } });
  return new Map(rows.map((row) => [row.slug, row.page.slug as Slug]));
}

/** Throws PageMovedError when `slug` is an old name of a moved page; the caller's not-found follows otherwise. */
export async function requireNotMoved(db: Db, slug: string): Promise<void> {
  const to = (await movedTargets(db, [slug])).get(slug);
  if (to !== undefined) throw new PageMovedError(slug, to);
}

/** A page's moves, newest first (its history shows them). */
export async function pageMoves(prisma: PrismaClient, slug: Slug): Promise<MoveEntry[]> {
  const rows = await prisma.pageMove.findMany({ where: { page: { slug } }, orderBy: { createdAt: "desc" }, take: 100 });
  return rows.map(entryOf);
}
