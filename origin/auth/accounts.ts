import { z } from "zod";
import type { Identity } from "../../protocol/token";
import { ConflictError, UnauthorizedError } from "../errors";
import type { PrismaClient } from "../generated/prisma/client";
import type { AccountGuard } from "./account-limits";
import { dummyHash, hashPassword, needsRehash, type ScryptCost, verifyPassword } from "./passwords";

export const credentialsSchema = z.object({
  name: z
    .string()
    .trim()
    .min(2, "must be at least 2 characters")
    .max(64, "must be at most 64 characters")
    .regex(/^[\p{L}\p{N}][\p{L}\p{N} _.-]*$/u, "may hold letters, digits, spaces, '_', '.' and '-', starting with a letter or digit"),
  password: z.string().min(8, "must be at least 8 characters").max(1024, "must be at most 1024 characters"),
});

export type Credentials = z.infer<typeof credentialsSchema>;

// Serializes registrations so that exactly one first user becomes admin.
const REGISTRATION_LOCK_KEY = 72_707_370;

/** The key an account's name is unique by. */
export function nameKeyOf(name: string): string {
  return name.normalize("NFKC").toLocaleLowerCase("en");
}

function identityOf(user: { id: string; name: string; role: Identity["role"]; createdAt: Date }): Identity {
  return { userId: user.id, name: user.name, role: user.role, createdAt: user.createdAt };
}

/** Creates an account. The first account of a fresh install is its admin; later ones are editors. */
export async function registerUser(prisma: PrismaClient, credentials: Credentials, options: { cost: ScryptCost }): Promise<Identity> {
  const passwordHash = await hashPassword(credentials.password, options.cost);
  const nameKey = nameKeyOf(credentials.name);
  const user = await prisma.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(${REGISTRATION_LOCK_KEY})`;
    if (await tx.user.findUnique({ where: { nameKey }, select: { id: true } })) {
      throw new ConflictError(`the name ${JSON.stringify(credentials.name)} is taken; choose another or log in`);
    }
    const role = (await tx.user.count()) === 0 ? "admin" : "editor";
    return tx.user.create({ data: { name: credentials.name, nameKey, passwordHash, role } });
  });
  return identityOf(user);
}

/**
 * Checks a name and password: the same error, and the same scrypt work, for
 * an unknown name and a wrong password. Refused with 429 while the name or
 * the address has failed too often. A right password whose hash is cheaper
 * than `cost` is hashed again at `cost`.
 */
export async function authenticateUser(
  prisma: PrismaClient,
  credentials: Credentials,
  options: { cost: ScryptCost; guard: AccountGuard; address: string },
): Promise<Identity> {
  const nameKey = nameKeyOf(credentials.name);
  options.guard.checkLogin(nameKey, options.address);
  const user = await prisma.user.findUnique({ where: { nameKey } });
  const matches = await verifyPassword(credentials.password, user?.passwordHash ?? dummyHash(options.cost));
  if (!user || !matches) {
    options.guard.loginFailed(nameKey, options.address);
    throw new UnauthorizedError("wrong name or password");
  }
  options.guard.loginSucceeded(nameKey);
  if (needsRehash(user.passwordHash, options.cost)) {
    const passwordHash = await hashPassword(credentials.password, options.cost);
    // Only if nobody changed it meanwhile.
    await prisma.user.updateMany({ where: { id: user.id, passwordHash: user.passwordHash }, data: { passwordHash } });
  }
  return identityOf(user);
}

/** The account as it is now: a session may outlive a change of role. */
export async function currentIdentity(prisma: PrismaClient, userId: string): Promise<Identity> {
  const user = await prisma.user.findUnique({ where: { id: userId } });
  if (!user) throw new UnauthorizedError("the account of this session no longer exists; log in again");
  return identityOf(user);
}
