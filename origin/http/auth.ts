import { EDGE_AUDIENCE, type Identity } from "../../protocol/token";
import { authenticateUser, credentialsSchema, currentIdentity, registerUser } from "../auth/accounts";
import { activeBlockOf, blockedMessage, requireNotBlocked } from "../blocks";
import { scryptCost } from "../auth/passwords";
import { endSession, requireLiveSession, startSession } from "../auth/sessions";
import { issueSessionToken, issueToken, verifySessionToken } from "../auth/tokens";
import { UnauthorizedError } from "../errors";
import type { Origin } from "../runtime";
import { readJson } from "./body";
import type { ClientInfo } from "./client";
import { PERSONAL_HEADERS } from "../../common/conditional";
import { requireOwnSiteJson } from "./cross-site";
import { answer, json } from "./respond";

export const SESSION_COOKIE = "weirwood_session";
const MAX_CREDENTIALS_BYTES = 16 * 1024;

function publicUser(identity: Identity) {
  return { id: identity.userId, name: identity.name, role: identity.role };
}

/** `Secure` when the browser came over HTTPS: then the cookie never travels in clear. */
function sessionCookie(value: string, maxAgeSeconds: number, client: ClientInfo): string {
  return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAgeSeconds}${client.https ? "; Secure" : ""}`;
}

/**
 * Answers `{ token, user }` with a fresh edge token, opens a session and sets
 * its cookie. A blocked account logs in (to read, as on MediaWiki) but gets
 * no edge token: `token` is null and `blocked` says why and until when.
 */
async function signedIn(origin: Origin, identity: Identity, client: ClientInfo, status: number): Promise<Response> {
  const { tokenTtlSeconds, sessionTtlSeconds } = origin.config;
  const block = await activeBlockOf(origin.db.prisma, identity.userId);
  const edgeToken = block
    ? { token: null, expiresIn: 0, blocked: blockedMessage(block) }
    : { token: await issueToken(origin.keys, identity, EDGE_AUDIENCE, tokenTtlSeconds), expiresIn: tokenTtlSeconds };
  const sessionId = await startSession(origin.db.prisma, identity, sessionTtlSeconds);
  const session = await issueSessionToken(origin.keys, identity, sessionId, sessionTtlSeconds);
  return json(
    { ...edgeToken, user: publicUser(identity) },
    { status, headers: { "set-cookie": sessionCookie(session, sessionTtlSeconds, client) } },
  );
}

/** POST /api/auth/register `{ name, password }` */
export function handleRegister(origin: Origin, request: Request): Promise<Response> {
  return answer(origin, async () => {
    const client = requireOwnSiteJson(origin, request);
    const credentials = credentialsSchema.parse(await readJson(request, MAX_CREDENTIALS_BYTES));
    origin.accounts.register(client.address);
    const identity = await registerUser(origin.db.prisma, credentials, { cost: scryptCost(origin.config.scryptLogN) });
    origin.log.info({ user: identity.name, role: identity.role }, "account registered");
    return signedIn(origin, identity, client, 201);
  });
}

/** POST /api/auth/login `{ name, password }` */
export function handleLogin(origin: Origin, request: Request): Promise<Response> {
  return answer(origin, async () => {
    const client = requireOwnSiteJson(origin, request);
    const credentials = credentialsSchema.parse(await readJson(request, MAX_CREDENTIALS_BYTES));
    const identity = await authenticateUser(origin.db.prisma, credentials, {
      cost: scryptCost(origin.config.scryptLogN),
      guard: origin.accounts,
      address: client.address,
    });
    return signedIn(origin, identity, client, 200);
  });
}

/** POST /api/auth/logout: ends the session (its cookie can buy no more edge tokens) and clears the cookie. */
export function handleLogout(origin: Origin, request: Request): Promise<Response> {
  return answer(origin, async () => {
    const client = requireOwnSiteJson(origin, request);
    const value = sessionCookieOf(request);
    if (value) {
      // A cookie that no longer verifies has nothing left to end.
      const session = await verifySessionToken(origin.keys, value).catch(() => undefined);
      if (session) await endSession(origin.db.prisma, session.sessionId);
    }
    return json({ ok: true }, { headers: { "set-cookie": sessionCookie("", 0, client) } });
  });
}

function sessionCookieOf(request: Request): string | undefined {
  const cookie = request.headers.get("cookie") ?? "";
  return cookie
    .split(";")
    .map((part) => part.trim())
    .find((part) => part.startsWith(`${SESSION_COOKIE}=`))
    ?.slice(SESSION_COOKIE.length + 1);
}

/** The identity of the request's session cookie, if that session is still open, read fresh from the database. */
export async function sessionIdentity(origin: Origin, request: Request): Promise<Identity> {
  const value = sessionCookieOf(request);
  if (!value) throw new UnauthorizedError("not logged in: no session cookie");
  const { identity, sessionId } = await verifySessionToken(origin.keys, value);
  await requireLiveSession(origin.db.prisma, sessionId, identity.userId);
  return currentIdentity(origin.db.prisma, identity.userId);
}

/** POST /api/auth/token: a fresh edge token for the logged-in session; 403 `blocked` for a blocked account. */
export function handleToken(origin: Origin, request: Request): Promise<Response> {
  return answer(origin, async () => {
    requireOwnSiteJson(origin, request);
    const identity = await sessionIdentity(origin, request);
    await requireNotBlocked(origin.db.prisma, identity);
    const token = await issueToken(origin.keys, identity, EDGE_AUDIENCE, origin.config.tokenTtlSeconds);
    return { token, expiresIn: origin.config.tokenTtlSeconds, user: publicUser(identity) };
  });
}

const personal = PERSONAL_HEADERS;

/** GET /api/auth/me */
export function handleMe(origin: Origin, request: Request): Promise<Response> {
  return answer(origin, async () => json({ user: publicUser(await sessionIdentity(origin, request)) }, { headers: personal }));
}

/**
 * GET /api/me: who the session cookie belongs to, or `{ user: null }`. The
 * wiki's pages are the same for everyone, so that shared caches keep them;
 * each browser asks this after load for the header's name and the buttons
 * its account may use.
 */
export function handleViewer(origin: Origin, request: Request): Promise<Response> {
  return answer(origin, async () => {
    let user: ReturnType<typeof publicUser> | null = null;
    try {
      user = publicUser(await sessionIdentity(origin, request));
    } catch (error) {
      // A missing, expired or revoked session is an anonymous reader, not an error.
      if (!(error instanceof UnauthorizedError)) throw error;
    }
    return json({ user }, { headers: personal });
  });
}


/** GET /.well-known/jwks.json: the public keys edges verify tokens with. */
export function handleJwks(origin: Origin): Response {
  return json(origin.keys.jwks, { headers: { "cache-control": "public, max-age=300" } });
}
