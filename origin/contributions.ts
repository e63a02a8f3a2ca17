import { nameKeyOf } from "./auth/accounts";
import type { ChangeCursor } from "./change-cursor";
import { NotFoundError } from "./errors";
import type { PrismaClient } from "./generated/prisma/client";
import { changePage, type ChangePage } from "./recent-changes";

export interface Contributions extends ChangePage {
  /** The account's name as registered, whatever case the request used. */
  user: string;
}

/**
 * Every revision a user took part in, newest first. Revisions name their
 * authors as the edge tokens did, by the account's registered name; the
 * request's name finds the account however it is cased.
 */
export async function userContributions(
  prisma: PrismaClient,
  options: { name: string; limit?: number; before?: ChangeCursor },
): Promise<Contributions> {
  const user = await prisma.user.findUnique({ where: { nameKey: nameKeyOf(options.name) }, select: { name: true } });
  if (!user) throw new NotFoundError(`no user ${JSON.stringify(options.name)}, so no contributions: check the name`);
  const page = await changePage(prisma, { where: { authors: { has: user.name } }, limit: options.limit, before: options.before });
  return { user: user.name, ...page };
}
