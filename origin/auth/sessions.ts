import type { Identity } from "../../protocol/token";
import { UnauthorizedError } from "../errors";
import type { PrismaClient } from "../generated/prisma/client";

/**
 * Sessions live in the database so that they can end before their cookie
 * does: logout deletes the row (so would a password change, when there is one), and every use
 * of the cookie (POST /api/auth/token, /me, admin actions) looks it up.
 */
export async function startSession(prisma: PrismaClient, identity: Identity, ttlSeconds: number): Promise<string> {
  const now = new Date();
  // Sessions that ran out are only clutter: each login sweeps its account's.
  await prisma.session.deleteMany({ where: { userId: identity.userId, expiresAt: { lt: now } } });
  const session = await prisma.session.create({
    data: { userId: identity.userId, expiresAt: new Date(now.getTime() + ttlSeconds * 1000) },
    select: { id: true },
  });
  return session.id;
}

/** Refuses a session that was ended or expired, or that belongs to someone else. */
export async function requireLiveSession(prisma: PrismaClient, sessionId: string, userId: string): Promise<void> {
  const session = await prisma.session.findUnique({ where: { id: sessionId }, select: { userId: true, expiresAt: true } });
  if (!session || session.userId !== userId || session.expiresAt.getTime() <= Date.now()) {
    throw new UnauthorizedError("this session has ended (logged out or expired): log in again");
  }
}

export async function endSession(prisma: PrismaClient, sessionId: string): Promise<void> {
  await prisma.session.deleteMany({ where: { id: sessionId } });
}

