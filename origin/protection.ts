import type { Slug } from "../common/slug";
import type { Identity } from "../protocol/token";
import { ForbiddenError, NotFoundError } from "./errors";
import type { PrismaClient } from "./generated/prisma/client";
import type { PageProtection } from "./pages";

// The wiki's pages decide which buttons to show with it in the browser.
export { writePermission } from "../common/write-permission";

export const PROTECTION_LEVELS = ["none", "admin"] as const satisfies readonly PageProtection[];

export interface ProtectionView {
  slug: string;
  protection: PageProtection;
  /** Who set the current protection; null for an unprotected page or a deleted account. */
  protectedBy: string | null;
}

/**
 * Sets who may write a page: "admin" lets only admins edit it, "none" any
 * editor. Only an admin may change it. A page exists from its first revision
 * on: a page nobody wrote yet cannot be protected.
 */
export async function setProtection(
  prisma: PrismaClient,
  options: { slug: Slug; protection: PageProtection; by: Identity },
): Promise<ProtectionView> {
  if (options.by.role !== "admin") {
    throw new ForbiddenError(`only an admin may change the protection of ${options.slug}; ${options.by.name} is ${options.by.role}`);
  }
  const protect = options.protection === "admin";
  const { count } = await prisma.page.updateMany({
    where: { slug: options.slug },
    data: { protection: options.protection, protectedById: protect ? options.by.userId : null },
  });
  if (count === 0) throw new NotFoundError(`no page ${options.slug} to protect: a page exists once it has a revision`);
  return { slug: options.slug, protection: options.protection, protectedBy: protect ? options.by.name : null };
}
