import { createLocalJWKSet, decodeProtectedHeader, errors, jwtVerify, type JWTVerifyGetKey } from "jose";
import {
  EDGE_AUDIENCE,
  type Identity,
  identityFromClaims,
  TOKEN_ALGORITHM,
  TOKEN_ISSUER,
  tokenClaimsSchema,
} from "../../protocol/token";

/** Why a token was refused: stable, for callers and metrics to switch on. */
export type TokenRejection =
  | "missing"
  | "malformed"
  | "algorithm"
  | "unknown-key"
  | "forged"
  | "expired"
  | "not-yet-valid"
  | "audience"
  | "issuer"
  | "claims";

/**
 * The client's token is not acceptable; a new token from the origin fixes it.
 * Messages stay within 123 bytes so that they fit, whole, in a WebSocket close
 * reason (RFC 6455 5.5: control frame payloads are at most 125 bytes, 2 of
 * which are the code); the jose error that caused it is the `cause`.
 */
export class TokenError extends Error {
  constructor(
    readonly rejection: TokenRejection,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "TokenError";
  }
}

/**
 * The edge has no usable copy of the origin's public keys, so it cannot tell a
 * good token from a bad one. Not the client's fault: a new token would not
 * help; retrying later (or another PoP) would.
 */
export class SigningKeysUnavailableError extends Error {
  constructor(
    readonly jwksUrl: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "SigningKeysUnavailableError";
  }
}

export interface TokenVerifierOptions {
  /** The origin's `/.well-known/jwks.json`. */
  jwksUrl: string | URL;
  fetch?: typeof fetch;
  /**
   * Age after which cached keys are refreshed in the background while they
   * keep serving (default 5 min, the origin's `cache-control: max-age=300`).
   * Needed for keys the origin withdraws: an unknown kid refreshes at once,
   * but a removed key is only noticed here.
   */
  refreshIntervalMs?: number;
  /**
   * Minimum time between two JWKS requests that tokens can cause (unknown
   * kid, background refresh), counted from the last attempt, successful or
   * not: tokens with invented kids cannot make the edge hammer the origin,
   * up or down (default 30 s, jose's `cooldownDuration`).
   */
  cooldownMs?: number;
  /** How long one JWKS request may take (default 5 s). */
  timeoutMs?: number;
  /** Milliseconds since the epoch; injectable for tests. */
  now?: () => number;
  /**
   * Where else the keys may come from when the origin cannot be reached: the
   * JWK Set another replica holds (key-sharing.ts). A replica started while
   * the origin is down (added to a PoP mid-spike, say) can then verify
   * tokens; it keeps asking the origin in the background, within the
   * cooldown, and takes the origin's keys once it answers.
   */
  peerKeys?: () => Promise<unknown>;
}

export interface TokenVerifier {
  /**
   * The identity the token names. Rejects with `TokenError` when the token is
   * at fault, with `SigningKeysUnavailableError` when the edge has no keys yet
   * or an unknown kid needs a refresh that the origin does not answer.
   */
  verify(token: string | null | undefined): Promise<Identity>;
  /**
   * Fetches the keys now: call at replica start so that the first client does
   * not wait and a wrong URL shows at once. Rejects with `SigningKeysUnavailableError`.
   */
  loadKeys(): Promise<void>;
  /** The JWK Set in use, as fetched (for peers that cannot reach the origin); undefined before any. */
  heldKeySet(): unknown;
}

type KeySet = ReturnType<typeof createLocalJWKSet>;

const GET_TOKEN = "get a new one from POST /api/auth/token";
/**
 * With no keys at all the edge can verify nothing, so a cold start retries
 * sooner than the cooldown; one request a second is no load on an origin.
 */
const COLD_RETRY_MS = 1_000;
/** Edges and the origin run on different machines: tolerate small clock skew at expiry. */
const CLOCK_TOLERANCE_SECONDS = 5;
/**
 * Keeps attacker-chosen strings (aud, iss, kid) from pushing a message past
 * 123 bytes; a kid gets room for the origin's (a 43-character thumbprint).
 */
const QUOTED_MAX = 32;
const QUOTED_KID_MAX = 46;

/*
 * Why not jose's createRemoteJWKSet: when its cache passes `cacheMaxAge` it
 * awaits a refetch before verifying, so an origin that is down then breaks
 * verification of keys the edge already holds; and its cooldown counts from
 * the last *successful* fetch, so while the origin is down every token with
 * an unknown kid triggers a request. Here keys are fetched into
 * createLocalJWKSet, stale keys keep serving while a refresh runs in the
 * background, and the cooldown counts every attempt.
 */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const jwksUrl = parseJwksUrl(options.jwksUrl);
  const fetchImpl = options.fetch ?? fetch;
  const refreshIntervalMs = options.refreshIntervalMs ?? 5 * 60_000;
  const cooldownMs = options.cooldownMs ?? 30_000;
  const timeoutMs = options.timeoutMs ?? 5_000;
  const now = options.now ?? Date.now;
  const coldRetryMs = Math.min(cooldownMs, COLD_RETRY_MS);

  let keys: KeySet | undefined;
  let held: unknown;
  let fetchedAt = -Infinity;
  let attemptedAt = -Infinity;
  let lastFailure: SigningKeysUnavailableError | undefined;
  let pending: Promise<KeySet> | undefined;

  function unavailable(reason: string, cause?: unknown): SigningKeysUnavailableError {
    return new SigningKeysUnavailableError(
      jwksUrl.href,
      `cannot fetch the origin's signing keys from ${jwksUrl.href} (${reason}): ` +
        "no token can be verified until the origin answers there; check that it is up and the URL is right",
      { cause },
    );
  }

  /**
   * From the origin or, when this replica holds no keys at all, from a peer
   * (then marked stale, so that the origin is asked again after the
   * cooldown). Only then: a replica that holds keys keeps its own, which may
   * be newer than a peer's (a rotation it already fetched).
   */
  async function fetchKeys(): Promise<{ set: KeySet; body: unknown; fromPeer: boolean }> {
    try {
      return { ...(await fetchFromOrigin()), fromPeer: false };
    } catch (error) {
      const body = options.peerKeys && keys === undefined ? await options.peerKeys().catch(() => undefined) : undefined;
      if (body === undefined) throw error;
      try {
        return { set: createLocalJWKSet(body as Parameters<typeof createLocalJWKSet>[0]), body, fromPeer: true };
      } catch {
        throw error;
      }
    }
  }

  async function fetchFromOrigin(): Promise<{ set: KeySet; body: unknown }> {
    attemptedAt = now();
    let response: Response;
    try {
      response = await fetchImpl(jwksUrl, {
        headers: { accept: "application/json, application/jwk-set+json" },
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      throw unavailable(describeFetchFailure(error, timeoutMs), error);
    }
    if (response.status !== 200) {
      await response.body?.cancel();
      throw unavailable(`HTTP ${response.status}`);
    }
    let body: unknown;
    try {
      body = await response.json();
    } catch (error) {
      throw unavailable("the answer is not JSON", error);
    }
    try {
      return { set: createLocalJWKSet(body as Parameters<typeof createLocalJWKSet>[0]), body };
    } catch (error) {
      throw unavailable("the answer is not a JSON Web Key Set", error);
    }
  }

  /** One request at a time, however many verifications want it. */
  function refresh(): Promise<KeySet> {
    pending ??= fetchKeys()
      .then(
        (fresh) => {
          keys = fresh.set;
          held = fresh.body;
          fetchedAt = fresh.fromPeer ? -Infinity : now();
          lastFailure = undefined;
          return fresh.set;
        },
        (error: SigningKeysUnavailableError) => {
          lastFailure = error;
          throw error;
        },
      )
      .finally(() => {
        pending = undefined;
      });
    return pending;
  }

  function mayRequest(): boolean {
    return now() - attemptedAt >= cooldownMs;
  }

  async function currentKeys(): Promise<KeySet> {
    if (keys) {
      if (!pending && now() - fetchedAt >= refreshIntervalMs && mayRequest()) {
        // Stale keys keep serving: the failure is kept in lastFailure, and a
        // withdrawn key is dropped when a refresh succeeds.
        refresh().catch(() => undefined);
      }
      return keys;
    }
    if (pending) return pending;
    if (lastFailure && now() - attemptedAt < coldRetryMs) throw lastFailure;
    return refresh();
  }

  const resolveKey: JWTVerifyGetKey = async (header, token) => {
    const known = await currentKeys();
    try {
      return await known(header, token);
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey)) throw error;
      // An unknown kid is how a key rotation shows: look once, within the cooldown.
      if (pending) return (await pending)(header, token);
      if (!mayRequest()) throw error;
      return (await refresh())(header, token);
    }
  };

  return {
    async verify(token) {
      if (!token) throw new TokenError("missing", "no token: connect with ?token=<edge token>, from POST /api/auth/token");
      let payload: unknown;
      try {
        ({ payload } = await jwtVerify(token, resolveKey, {
          issuer: TOKEN_ISSUER,
          audience: EDGE_AUDIENCE,
          algorithms: [TOKEN_ALGORITHM],
          clockTolerance: CLOCK_TOLERANCE_SECONDS,
          currentDate: new Date(now()),
        }));
      } catch (error) {
        throw refusal(error, token);
      }
      const claims = tokenClaimsSchema.safeParse(payload);
      if (!claims.success) {
        const fields = [...new Set(claims.error.issues.map((issue) => issue.path.join(".")))].join(", ");
        throw new TokenError("claims", `token claims are invalid (${quoted(fields)}): ${GET_TOKEN}`, { cause: claims.error });
      }
      return identityFromClaims(claims.data);
    },
    async loadKeys() {
      await refresh();
    },
    heldKeySet: () => held,
  };
}

function parseJwksUrl(url: string | URL): URL {
  try {
    return new URL(url);
  } catch (error) {
    throw new Error(`token verifier: jwksUrl must be an absolute URL, got ${JSON.stringify(String(url))}`, { cause: error });
  }
}

function describeFetchFailure(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && error.name === "TimeoutError") return `no answer within ${timeoutMs} ms`;
  // undici reports "fetch failed" and keeps the useful part (ECONNREFUSED, ENOTFOUND) in the cause.
  const cause = error instanceof Error ? (error.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  if (typeof cause?.code === "string") return cause.code;
  if (typeof cause?.message === "string") return cause.message;
  return error instanceof Error ? error.message : String(error);
}

/** Turns what jose threw into a TokenError a client can act on. */
function refusal(error: unknown, token: string): Error {
  if (error instanceof SigningKeysUnavailableError) return error;
  const options = { cause: error };
  if (error instanceof errors.JWTExpired) {
    return new TokenError("expired", `token expired at ${isoSeconds(error.payload.exp)}: ${GET_TOKEN}`, options);
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    switch (error.claim) {
      case "aud":
        return new TokenError(
          "audience",
          `token is for ${quoted(error.payload.aud)}, not "${EDGE_AUDIENCE}": ${GET_TOKEN}`,
          options,
        );
      case "iss":
        return new TokenError(
          "issuer",
          `token was issued by ${quoted(error.payload.iss)}, not "${TOKEN_ISSUER}": ${GET_TOKEN}`,
          options,
        );
      case "nbf":
        return new TokenError(
          "not-yet-valid",
          `token is not valid before ${isoSeconds(error.payload.nbf)}: check the clocks of the origin and this edge`,
          options,
        );
      default:
        return new TokenError("claims", `token claim ${quoted(error.claim)} is invalid: ${GET_TOKEN}`, options);
    }
  }
  if (error instanceof errors.JOSEAlgNotAllowed) {
    return new TokenError("algorithm", `token is signed with ${quoted(headerOf(token).alg)}, not ${TOKEN_ALGORITHM}: ${GET_TOKEN}`, options);
  }
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) {
    return new TokenError("unknown-key", `token is signed by an unknown key ${quoted(headerOf(token).kid, QUOTED_KID_MAX)}: ${GET_TOKEN}`, options);
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return new TokenError("forged", `token signature is invalid (forged or altered): ${GET_TOKEN}`, options);
  }
  if (error instanceof errors.JOSEError) {
    return new TokenError("malformed", `token is not a well-formed JWT: send the token from POST /api/auth/token unchanged`, options);
  }
  return error instanceof Error ? error : new Error(String(error));
}

function headerOf(token: string): { alg?: unknown; kid?: unknown } {
  try {
    return decodeProtectedHeader(token);
  } catch {
    // Only reached for tokens jose already parsed; a header that fails here names nothing useful.
    return {};
  }
}

/** Printable ASCII only, so that the byte bound holds and logs stay one line. */
function quoted(value: unknown, max = QUOTED_MAX): string {
  if (value === undefined) return "(none)";
  const text = (JSON.stringify(value) ?? String(value)).replace(/[^\x20-\x7e]/g, "?");
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}

function isoSeconds(epochSeconds: unknown): string {
  if (typeof epochSeconds !== "number" || !Number.isFinite(epochSeconds)) return quoted(epochSeconds);
  return new Date(epochSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}
