import type { Identity } from "../protocol/token";
import { nameKeyOf } from "./auth/accounts";
import { ForbiddenError, NotFoundError } from "./errors";
import type { PrismaClient } from "./generated/prisma/client";

export interface BotFlag {
  /** The account's name as registered. */
  name: string;
  bot: boolean;
}

/**
 * Marks an account as a bot, or not, as MediaWiki's bot group: recent changes
 * can then hide what bots did alone (origin/recent-changes.ts). Only an admin
 * may. It changes nothing the account may do.
 */
export async function setBot(prisma: PrismaClient, options: { name: string; bot: boolean; by: Identity }): Promise<BotFlag> {
  if (options.by.role !== "admin") {
    throw new ForbiddenError(`only an admin may mark an account as a bot; ${options.by.name} is ${options.by.role}`);
  }
  const { count } = await prisma.user.updateMany({ where: { nameKey: nameKeyOf(options.name) }, data: { bot: options.bot } });
  if (count === 0) throw new NotFoundError(`no user ${JSON.stringify(options.name)} to mark: check the name`);
  const user = await prisma.user.findUniqueOrThrow({ where: { nameKey: nameKeyOf(options.name) }, select: { name: true, bot: true } });
  return { name: user.name, bot: user.bot };
}
