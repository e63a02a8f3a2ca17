import { type JWTPayload, jwtVerify, SignJWT } from "jose";
import { z } from "zod";
import {
  EDGE_AUDIENCE,
  SESSION_AUDIENCE,
  TOKEN_ALGORITHM,
  TOKEN_ISSUER,
  tokenClaimsSchema,
  type Identity,
  identityFromClaims,
} from "../../protocol/token";
import { UnauthorizedError } from "../errors";
import type { SigningKeys } from "./keys";

export type TokenAudience = typeof EDGE_AUDIENCE | typeof SESSION_AUDIENCE;

/**
 * Signs a token for `identity`. Edge tokens are short-lived (the edge cannot
 * ask the origin whether a user was demoted); session tokens live in the
 * browser's cookie and only buy fresh edge tokens from the origin.
 */
export async function issueToken(
  keys: SigningKeys,
  identity: Identity,
  audience: TokenAudience,
  ttlSeconds: number,
  extraClaims: Record<string, string> = {},
): Promise<string> {
  return new SignJWT({ ...extraClaims, name: identity.name, role: identity.role, created: Math.floor(identity.createdAt.getTime() / 1000) })
    .setProtectedHeader({ alg: TOKEN_ALGORITHM, kid: keys.kid, typ: "JWT" })
    .setSubject(identity.userId)
    .setIssuer(TOKEN_ISSUER)
    .setAudience(audience)
    .setIssuedAt()
    .setExpirationTime(`${ttlSeconds}s`)
    .sign(keys.privateKey);
}

async function verifiedPayload(keys: SigningKeys, token: string, audience: TokenAudience): Promise<JWTPayload> {
  try {
    const { payload } = await jwtVerify(token, keys.publicKey, {
      issuer: TOKEN_ISSUER,
      audience,
      algorithms: [TOKEN_ALGORITHM],
    });
    return payload;
  } catch (error) {
    throw new UnauthorizedError(`token refused: ${(error as Error).message}`, { cause: error });
  }
}

function identityOf(payload: JWTPayload): Identity {
  const claims = tokenClaimsSchema.safeParse(payload);
  if (!claims.success) throw new UnauthorizedError(`token refused: ${claims.error.message}`, { cause: claims.error });
  return identityFromClaims(claims.data);
}

/** Verifies a token this origin signed, for the given audience. */
export async function verifyToken(keys: SigningKeys, token: string, audience: TokenAudience): Promise<Identity> {
  return identityOf(await verifiedPayload(keys, token, audience));
}

const sessionIdSchema = z.uuid();

/** A session token names its session row (`sid`), which logout deletes: the signature alone cannot be taken back. */
export function issueSessionToken(keys: SigningKeys, identity: Identity, sessionId: string, ttlSeconds: number): Promise<string> {
  return issueToken(keys, identity, SESSION_AUDIENCE, ttlSeconds, { sid: sessionId });
}

export async function verifySessionToken(keys: SigningKeys, token: string): Promise<{ identity: Identity; sessionId: string }> {
  const payload = await verifiedPayload(keys, token, SESSION_AUDIENCE);
  const sessionId = sessionIdSchema.safeParse(payload.sid);
  if (!sessionId.success) throw new UnauthorizedError("session refused: it names no session (issued before sessions could be revoked); log in again");
  return { identity: identityOf(payload), sessionId: sessionId.data };
}
