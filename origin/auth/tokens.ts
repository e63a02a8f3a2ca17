import { jwtVerify, SignJWT } from "jose";
import {
  EDGE_AUDIENCE,
  SESSION_AUDIENCE,
  TOKEN_ALGORITHM,
  TOKEN_ISSUER,
  tokenClaimsSchema,
  type Identity,
  identityFromClaims,
} from "../../edge/protocol/token";
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
): Promise<string> {
  return new SignJWT({ name: identity.name, role: identity.role, created: Math.floor(identity.createdAt.getTime() / 1000) })
    .setProtectedHeader({ alg: TOKEN_ALGORITHM, kid: keys.kid, typ: "JWT" })
    .setSubject(identity.userId)
    .setIssuer(TOKEN_ISSUER)
    .setAudience(audience)
    .setIssuedAt()
    .setExpirationTime(`${ttlSeconds}s`)
    .sign(keys.privateKey);
}

/** Verifies a token this origin signed, for the given audience. */
export async function verifyToken(keys: SigningKeys, token: string, audience: TokenAudience): Promise<Identity> {
  try {
    const { payload } = await jwtVerify(token, keys.publicKey, {
      issuer: TOKEN_ISSUER,
      audience,
      algorithms: [TOKEN_ALGORITHM],
    });
    return identityFromClaims(tokenClaimsSchema.parse(payload));
  } catch (error) {
    throw new UnauthorizedError(`token refused: ${(error as Error).message}`, { cause: error });
  }
}
