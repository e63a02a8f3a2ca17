import type { Slug } from "../common/slug";
import { nameKeyOf } from "./auth/accounts";
import type { ChangeCursor } from "./change-cursor";
import { NotFoundError } from "./errors";
import type { PrismaClient } from "./generated/prisma/client";
import type { Transaction } from "./page-log";
import { changePage, type ChangePage } from "./recent-changes";

/** Puts a page on a user's watchlist; watching it again changes nothing. */
export async function watchPage(prisma: PrismaClient, options: { userId: string; slug: Slug }): Promise<void> {
  const pageId = await pageIdOf(prisma, options.slug);
  await prisma.watch.upsert({
    where: { userId_pageId: { userId: options.userId, pageId } },
    create: { userId: options.userId, pageId },
    update: {},
    select: { userId: true },
  });
}

/** Takes a page off a user's watchlist; a page not on it is no error. */
export async function unwatchPage(prisma: PrismaClient, options: { userId: string; slug: Slug }): Promise<void> {
  const pageId = await pageIdOf(prisma, options.slug);
  await prisma.watch.deleteMany({ where: { userId: options.userId, pageId } });
}

export async function isWatching(prisma: PrismaClient, options: { userId: string; slug: Slug }): Promise<boolean> {
  const pageId = await pageIdOf(prisma, options.slug);
  return (await prisma.watch.count({ where: { userId: options.userId, pageId } })) > 0;
}

/** The revisions of the pages a user watches, newest first. */
export function watchlistChanges(
  prisma: PrismaClient,
  options: { userId: string; limit?: number; before?: ChangeCursor },
): Promise<ChangePage> {
  return changePage(prisma, { where: { page: { watchers: { some: { userId: options.userId } } } }, limit: options.limit, before: options.before });
}

/**
 * Authors newly named by a page's revisions watch it, as MediaWiki watches
 * the pages one edits. Called by the text refresh in the transaction that
 * writes those revisions, so it sees every edit whichever edge or PoP it came
 * through; a name without an account (a test's token) watches nothing. A
 * user who unwatched a page keeps it off until they take part in a revision
 * of it again.
 */
export async function watchAsAuthors(tx: Transaction, pageId: string, authors: Iterable<string>): Promise<void> {
  const keys = [...new Set([...authors].map(nameKeyOf))];
  if (keys.length === 0) return;
  await tx.$executeRaw`
    INSERT INTO "Watch" ("userId", "pageId")
    SELECT id, ${pageId}::uuid FROM "User" WHERE "nameKey" = ANY(${keys}::text[])
    ON CONFLICT DO NOTHING`;
}

async function pageIdOf(prisma: PrismaClient, slug: Slug): Promise<string> {
  const page = await prisma.page.findUnique({ where: { slug }, select: { id: true } });
  if (!page) throw new NotFoundError(`no page ${slug} to watch: only pages that exist can be watched`);
  return page.id;
}
