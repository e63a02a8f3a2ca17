import { z } from "zod";

/**
 * What an edge token says about its bearer. The origin signs it (EdDSA); an
 * edge verifies it with the origin's public keys, with no round trip.
 */
export const TOKEN_ISSUER = "weirwood-origin";
export const EDGE_AUDIENCE = "weirwood-edge";
export const SESSION_AUDIENCE = "weirwood-session";
export const TOKEN_ALGORITHM = "EdDSA";

export const roleSchema = z.enum(["reader", "editor", "admin"]);
export type Role = z.infer<typeof roleSchema>;

export const tokenClaimsSchema = z.object({
  sub: z.string().min(1),
  name: z.string().min(1),
  role: roleSchema,
  /** When the account was created (seconds since the epoch): new accounts get a tighter rate limit. */
  created: z.number().int().nonnegative(),
  exp: z.number().int(),
  iat: z.number().int().optional(),
});

export type TokenClaims = z.infer<typeof tokenClaimsSchema>;

/** The user a verified token names, as the rest of the code uses it. */
export interface Identity {
  userId: string;
  name: string;
  role: Role;
  createdAt: Date;
  /** When the token that proved this identity expires: an edge closes its connections past it (plus a grace). */
  expiresAt?: Date;
}

export function identityFromClaims(claims: TokenClaims): Identity {
  return { userId: claims.sub, name: claims.name, role: claims.role, createdAt: new Date(claims.created * 1000), expiresAt: new Date(claims.exp * 1000) };
}
