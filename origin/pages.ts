import type { Slug } from "../common/slug";
import { NotFoundError } from "./errors";
import type { PrismaClient } from "./generated/prisma/client";

export type PageProtection = "none" | "admin";

/** A page as readers see it: its current Markdown and where it stands. */
export interface PageView {
  slug: string;
  title: string;
  text: string;
  /** The newest revision's number (0 for a page no flush has changed yet). */
  revision: number;
  updatedAt: string;
  protection: PageProtection;
}

export async function getPage(prisma: PrismaClient, options: { slug: Slug }): Promise<PageView> {
  const page = await prisma.page.findUnique({
    where: { slug: options.slug },
    select: { slug: true, title: true, text: true, revisionCount: true, updatedAt: true, protection: true },
  });
  if (!page) throw new NotFoundError(`no page ${options.slug}: check the slug, or create the page by editing it`);
  return {
    slug: page.slug,
    title: page.title,
    text: page.text,
    revision: page.revisionCount,
    updatedAt: page.updatedAt.toISOString(),
    protection: page.protection,
  };
}
