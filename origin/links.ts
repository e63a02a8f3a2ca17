import { type Slug, slugToTitle } from "../common/slug";
import type { PrismaClient } from "./generated/prisma/client";

export const WANTED_DEFAULT_LIMIT = 50;
export const WANTED_MAX_LIMIT = 500;

export interface PageRef {
  slug: string;
  title: string;
}

export interface WantedPage extends PageRef {
  /** How many pages link to it. */
  linkCount: number;
}

/** Pages whose text links to `slug`, by title; a deleted page links to nothing. A page that does not exist yet can have backlinks. */
export async function backlinks(prisma: PrismaClient, options: { slug: Slug }): Promise<PageRef[]> {
  const links = await prisma.link.findMany({
    where: { toSlug: options.slug, from: { deletedAt: null } },
    select: { from: { select: { slug: true, title: true } } },
    orderBy: { from: { title: "asc" } },
  });
  return links.map((link) => ({ slug: link.from.slug, title: link.from.title }));
}

/**
 * Slugs that pages link to but no page holds (red links), most linked first:
 * a deleted page counts as no page, and its own links count for nothing.
 */
export async function wantedPages(prisma: PrismaClient, options: { limit?: number } = {}): Promise<WantedPage[]> {
  const limit = Math.min(options.limit ?? WANTED_DEFAULT_LIMIT, WANTED_MAX_LIMIT);
  // An anti-join: Link.toSlug is deliberately not a relation, since it may
  // name a page that does not exist.
  const rows = await prisma.$queryRaw<{ slug: string; linkCount: number }[]>`
    SELECT l."toSlug" AS slug, count(*)::int AS "linkCount"
    FROM "Link" l JOIN "Page" f ON f.id = l."fromId" AND f."deletedAt" IS NULL
    WHERE NOT EXISTS (SELECT 1 FROM "Page" p WHERE p.slug = l."toSlug" AND p."deletedAt" IS NULL)
      AND NOT EXISTS (SELECT 1 FROM "PageAlias" a JOIN "Page" p ON p.id = a."pageId" WHERE a.slug = l."toSlug" AND p."deletedAt" IS NULL)
    GROUP BY l."toSlug"
    ORDER BY "linkCount" DESC, l."toSlug"
    LIMIT ${limit}`;
  return rows.map((row) => ({ slug: row.slug, title: slugToTitle(row.slug as Slug), linkCount: row.linkCount }));
}

/**
 * Which of `slugs` name existing pages (not deleted ones), or old names of
 * moved ones (a link to those lands on the page), in two small queries: a
 * page view colours all its [[links]] (blue or red) with it.
 */
export async function existingSlugs(prisma: PrismaClient, options: { slugs: readonly Slug[] }): Promise<Set<Slug>> {
  if (options.slugs.length === 0) return new Set();
  const [pages, aliases] = await Promise.all([
    prisma.page.findMany({ where: { slug: { in: [...options.slugs] }, deletedAt: null }, select: { slug: true } }),
    prisma.pageAlias.findMany({ where: { slug: { in: [...options.slugs] }, page: { deletedAt: null } }, select: { slug: true } }),
  ]);
  return new Set([...pages, ...aliases].map((page) => page.slug as Slug));
}
