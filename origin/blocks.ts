import type { ActiveBlock, BlockNotice } from "../protocol/blocks";
import type { Identity } from "../protocol/token";
import { nameKeyOf } from "./auth/accounts";
import { BadRequestError, BlockedError, ForbiddenError, NotFoundError } from "./errors";
import type { PrismaClient } from "./generated/prisma/client";

/** A block as the admin pages and the API show it. */
export interface BlockView extends ActiveBlock {
  /** The admin who set it; null once that account is deleted. */
  blockedBy: string | null;
  createdAt: string;
}

type BlockRow = { userId: string; reason: string; createdAt: Date; expiresAt: Date | null; user: { name: string }; blockedBy: { name: string } | null };

const WITH_NAMES = { user: { select: { name: true } }, blockedBy: { select: { name: true } } } as const;

function viewOf(row: BlockRow): BlockView {
  return {
    userId: row.userId,
    name: row.user.name,
    reason: row.reason,
    expiresAt: row.expiresAt?.toISOString() ?? null,
    blockedBy: row.blockedBy?.name ?? null,
    createdAt: row.createdAt.toISOString(),
  };
}

/** Active: no end, or an end still ahead. An expired row stays until replaced or lifted, and counts for nothing. */
function activeAt(now: Date) {
  return { OR: [{ expiresAt: null }, { expiresAt: { gt: now } }] };
}

/** What a blocked person is told, by the origin (403) and, shortened, by the edges (close reason). */
export function blockedMessage(block: Pick<ActiveBlock, "reason" | "expiresAt">): string {
  const until = block.expiresAt ? `until ${block.expiresAt}` : "with no end date";
  return `your account is blocked by an admin ${until}: ${block.reason}`;
}

export async function activeBlockOf(prisma: PrismaClient, userId: string, now = new Date()): Promise<BlockView | undefined> {
  const row = await prisma.userBlock.findFirst({ where: { userId, ...activeAt(now) }, include: WITH_NAMES });
  return row ? viewOf(row) : undefined;
}

/** Refuses (403 `blocked`, naming the reason and the end) what a blocked account asks to write or to be trusted with. */
export async function requireNotBlocked(prisma: PrismaClient, identity: Identity, now = new Date()): Promise<void> {
  const block = await activeBlockOf(prisma, identity.userId, now);
  if (block) throw new BlockedError(blockedMessage(block));
}

export async function listActiveBlocks(prisma: PrismaClient, now = new Date()): Promise<BlockView[]> {
  const rows = await prisma.userBlock.findMany({ where: activeAt(now), include: WITH_NAMES, orderBy: { createdAt: "desc" } });
  return rows.map(viewOf);
}

/** Only an admin who is not blocked may block or lift a block. */
async function requireAdmin(prisma: PrismaClient, by: Identity, action: string): Promise<void> {
  if (by.role !== "admin") throw new ForbiddenError(`only an admin may ${action}; ${by.name} is ${by.role}`);
  await requireNotBlocked(prisma, by);
}

async function userNamed(prisma: PrismaClient, name: string): Promise<{ id: string; name: string }> {
  const user = await prisma.user.findUnique({ where: { nameKey: nameKeyOf(name) }, select: { id: true, name: true } });
  if (!user) throw new NotFoundError(`no account named ${JSON.stringify(name)}`);
  return user;
}

/**
 * Blocks the account named `name` until `expiresAt` (null: no end); a block
 * it already has is replaced. Answers the block and the notice the edges
 * must hear.
 */
export async function blockUser(
  prisma: PrismaClient,
  options: { name: string; reason: string; expiresAt: Date | null; by: Identity; now?: Date },
): Promise<{ block: BlockView; notice: BlockNotice }> {
  const now = options.now ?? new Date();
  await requireAdmin(prisma, options.by, "block an account");
  if (options.expiresAt && options.expiresAt.getTime() <= now.getTime()) {
    throw new BadRequestError(`expiresAt ${options.expiresAt.toISOString()} is not in the future: give a later time, or none for a block without end`);
  }
  const user = await userNamed(prisma, options.name);
  if (user.id === options.by.userId) throw new BadRequestError("you cannot block your own account");
  const data = { reason: options.reason, expiresAt: options.expiresAt, blockedById: options.by.userId, createdAt: now };
  const [row] = await prisma.$transaction([
    prisma.userBlock.upsert({ where: { userId: user.id }, create: { userId: user.id, ...data }, update: data, include: WITH_NAMES }),
    prisma.blockLogEntry.create({
      data: { action: "block", userName: user.name, byName: options.by.name, reason: options.reason, expiresAt: options.expiresAt, createdAt: now },
    }),
  ]);
  const block = viewOf(row);
  const { userId, name, reason, expiresAt } = block;
  return { block, notice: { kind: "blocked", block: { userId, name, reason, expiresAt } } };
}

/** Lifts the block of the account named `name`; 404 when it has none active. */
export async function unblockUser(
  prisma: PrismaClient,
  options: { name: string; by: Identity; reason?: string; now?: Date },
): Promise<{ unblocked: string; notice: BlockNotice }> {
  await requireAdmin(prisma, options.by, "lift a block");
  const user = await userNamed(prisma, options.name);
  const now = options.now ?? new Date();
  const count = await prisma.$transaction(async (tx) => {
    const lifted = await tx.userBlock.deleteMany({ where: { userId: user.id, ...activeAt(now) } });
    // An expired row is deleted too, but lifting it is not news to anyone.
    await tx.userBlock.deleteMany({ where: { userId: user.id } });
    if (lifted.count > 0) {
      await tx.blockLogEntry.create({ data: { action: "unblock", userName: user.name, byName: options.by.name, reason: options.reason ?? "", createdAt: now } });
    }
    return lifted.count;
  });
  if (count === 0) throw new NotFoundError(`${user.name} is not blocked`);
  return { unblocked: user.name, notice: { kind: "unblocked", userId: user.id } };
}

/** One line of the block log. */
export interface BlockLogView {
  action: "block" | "unblock";
  name: string;
  by: string;
  reason: string;
  expiresAt: string | null;
  at: string;
}

/**
 * The block log, newest first: every block and unblock, also of blocks that
 * ended or were lifted and of accounts since deleted. Public, as a wiki's
 * block log is: it holds what the blocked person is shown anyway.
 * `before` pages by time.
 */
export async function blockLog(prisma: PrismaClient, options: { limit: number; before?: Date; name?: string }): Promise<BlockLogView[]> {
  const rows = await prisma.blockLogEntry.findMany({
    where: { ...(options.before ? { createdAt: { lt: options.before } } : {}), ...(options.name ? { userName: options.name } : {}) },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: options.limit,
  });
  return rows.map((row) => ({
    action: row.action === "unblock" ? "unblock" : "block",
    name: row.userName,
    by: row.byName,
    reason: row.reason,
    expiresAt: row.expiresAt?.toISOString() ?? null,
    at: row.createdAt.toISOString(),
  }));
}
