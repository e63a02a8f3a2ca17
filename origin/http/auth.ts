import { EDGE_AUDIENCE, type Identity, SESSION_AUDIENCE } from "../../edge/protocol/token";
import { authenticateUser, credentialsSchema, currentIdentity, registerUser } from "../auth/accounts";
import { issueToken, verifyToken } from "../auth/tokens";
import { UnauthorizedError } from "../errors";
import type { Origin } from "../runtime";
import { readJson } from "./body";
import { answer, json } from "./respond";

export const SESSION_COOKIE = "weirwood_session";
const MAX_CREDENTIALS_BYTES = 16 * 1024;

function publicUser(identity: Identity) {
  return { id: identity.userId, name: identity.name, role: identity.role };
}

function sessionCookie(value: string, maxAgeSeconds: number): string {
  return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAgeSeconds}`;
}

/** Answers `{ token, user }` with a fresh edge token and sets the session cookie. */
async function signedIn(origin: Origin, identity: Identity, status: number): Promise<Response> {
  const { tokenTtlSeconds, sessionTtlSeconds } = origin.config;
  const token = await issueToken(origin.keys, identity, EDGE_AUDIENCE, tokenTtlSeconds);
  const session = await issueToken(origin.keys, identity, SESSION_AUDIENCE, sessionTtlSeconds);
  return json(
    { token, expiresIn: tokenTtlSeconds, user: publicUser(identity) },
    { status, headers: { "set-cookie": sessionCookie(session, sessionTtlSeconds) } },
  );
}

/** POST /api/auth/register `{ name, password }` */
export function handleRegister(origin: Origin, request: Request): Promise<Response> {
  return answer(origin, async () => {
    const credentials = credentialsSchema.parse(await readJson(request, MAX_CREDENTIALS_BYTES));
    const identity = await registerUser(origin.db.prisma, credentials);
    origin.log.info({ user: identity.name, role: identity.role }, "account registered");
    return signedIn(origin, identity, 201);
  });
}

/** POST /api/auth/login `{ name, password }` */
export function handleLogin(origin: Origin, request: Request): Promise<Response> {
  return answer(origin, async () => {
    const credentials = credentialsSchema.parse(await readJson(request, MAX_CREDENTIALS_BYTES));
    return signedIn(origin, await authenticateUser(origin.db.prisma, credentials), 200);
  });
}

/** POST /api/auth/logout: forgets the session cookie. */
export function handleLogout(): Response {
  return json({ ok: true }, { headers: { "set-cookie": sessionCookie("", 0) } });
}

/** The identity of the request's session cookie, read fresh from the database. */
export async function sessionIdentity(origin: Origin, request: Request): Promise<Identity> {
  const cookie = request.headers.get("cookie") ?? "";
  const value = cookie
    .split(";")
    .map((part) => part.trim())
    .find((part) => part.startsWith(`${SESSION_COOKIE}=`))
    ?.slice(SESSION_COOKIE.length + 1);
  if (!value) throw new UnauthorizedError("not logged in: no session cookie");
  const claimed = await verifyToken(origin.keys, value, SESSION_AUDIENCE);
  return currentIdentity(origin.db.prisma, claimed.userId);
}

/** POST /api/auth/token: a fresh edge token for the logged-in session. */
export function handleToken(origin: Origin, request: Request): Promise<Response> {
  return answer(origin, async () => {
    const identity = await sessionIdentity(origin, request);
    const token = await issueToken(origin.keys, identity, EDGE_AUDIENCE, origin.config.tokenTtlSeconds);
    return { token, expiresIn: origin.config.tokenTtlSeconds, user: publicUser(identity) };
  });
}

/** GET /api/auth/me */
export function handleMe(origin: Origin, request: Request): Promise<Response> {
  return answer(origin, async () => ({ user: publicUser(await sessionIdentity(origin, request)) }));
}

/** GET /.well-known/jwks.json: the public keys edges verify tokens with. */
export function handleJwks(origin: Origin): Response {
  return json(origin.keys.jwks, { headers: { "cache-control": "public, max-age=300" } });
}
