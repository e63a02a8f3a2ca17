import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { base64url, generateKeyPair, type JWK, SignJWT } from "jose";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { loadSigningKeys, type SigningKeys } from "../../origin/auth/keys";
import { issueToken } from "../../origin/auth/tokens";
import { EDGE_AUDIENCE, type Identity, SESSION_AUDIENCE, TOKEN_ISSUER } from "../../protocol/token";
import {
  createTokenVerifier,
  SigningKeysUnavailableError,
  TokenError,
  type TokenRejection,
  type TokenVerifier,
  type TokenVerifierOptions,
} from "./verifier";

const COOLDOWN_MS = 30_000;
const REFRESH_INTERVAL_MS = 5 * 60_000;
const GET_TOKEN = "get a new one from POST /api/auth/token";

const arya: Identity = { userId: "user-arya", name: "Arya", role: "editor", createdAt: new Date("2026-01-01T00:00:00Z") };

/** The origin's `/.well-known/jwks.json`, on 127.0.0.1, counting the requests it answers. */
interface JwksServer {
  url: string;
  requests: number;
  jwks: { keys: JWK[] };
  /** Status and body to answer instead of the JWKS, to play a broken origin. */
  failure?: { status: number; body: string };
  stop(): Promise<void>;
}

const servers: JwksServer[] = [];

async function startJwksServer(keys: JWK[]): Promise<JwksServer> {
  const server: Server = createServer((request, response) => {
    if (request.url !== "/.well-known/jwks.json") {
      response.writeHead(404).end();
      return;
    }
    state.requests += 1;
    if (state.failure) {
      response.writeHead(state.failure.status, { "content-type": "application/json" }).end(state.failure.body);
      return;
    }
    response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(state.jwks));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const state: JwksServer = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`,
    requests: 0,
    jwks: { keys },
    async stop() {
      if (!server.listening) return;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // fetch keeps connections alive; close them, or close() waits for their timeout.
      server.closeAllConnections();
      await closed;
    },
  };
  servers.push(state);
  return state;
}

/** A verifier on a clock the test moves, so that cooldowns and refreshes need no sleeping. */
function verifierFor(url: string, options: Partial<TokenVerifierOptions> = {}) {
  const clock = { now: Date.now() };
  const verifier = createTokenVerifier({
    jwksUrl: url,
    cooldownMs: COOLDOWN_MS,
    refreshIntervalMs: REFRESH_INTERVAL_MS,
    now: () => clock.now,
    ...options,
  });
  return { verifier, clock };
}

interface Signer {
  privateKey: CryptoKey;
  kid: string;
}

/** A token like the origin's, with any part overridden. */
async function sign(
  signer: Signer,
  overrides: { claims?: Record<string, unknown>; audience?: string; issuer?: string; exp?: number; kid?: string } = {},
): Promise<string> {
  const nowSeconds = Math.floor(Date.now() / 1000);
  return new SignJWT({ name: "Arya", role: "editor", created: 1_767_225_600, ...overrides.claims })
    .setProtectedHeader({ alg: "EdDSA", kid: overrides.kid ?? signer.kid, typ: "JWT" })
    .setSubject("user-arya")
    .setIssuer(overrides.issuer ?? TOKEN_ISSUER)
    .setAudience(overrides.audience ?? EDGE_AUDIENCE)
    .setIssuedAt(nowSeconds)
    .setExpirationTime(overrides.exp ?? nowSeconds + 900)
    .sign(signer.privateKey);
}

async function refusal(verifier: TokenVerifier, token: string | null): Promise<TokenError> {
  const error = await verifier.verify(token).then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(TokenError);
  return error as TokenError;
}

async function expectRefused(verifier: TokenVerifier, token: string | null, rejection: TokenRejection): Promise<TokenError> {
  const error = await refusal(verifier, token);
  expect(error.rejection).toBe(rejection);
  return error;
}

let dataDirs: string[] = [];
let origin: SigningKeys;
let rotated: SigningKeys;
let stranger: Signer;

beforeAll(async () => {
  dataDirs = [await mkdtemp(path.join(tmpdir(), "weirwood-edge-keys-")), await mkdtemp(path.join(tmpdir(), "weirwood-edge-keys-"))];
  origin = await loadSigningKeys({ keyFile: undefined, dataDir: dataDirs[0]! });
  rotated = await loadSigningKeys({ keyFile: undefined, dataDir: dataDirs[1]! });
  const { privateKey } = await generateKeyPair("EdDSA", { crv: "Ed25519" });
  stranger = { privateKey, kid: "not-a-key-the-origin-has" };
});

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.stop()));
});

afterAll(async () => {
  await Promise.all(dataDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe("verifying a good token", () => {
  it("a token the origin issued verifies to the identity it names", async () => {
    const server = await startJwksServer(origin.jwks.keys);
    const { verifier } = verifierFor(server.url);

    const before = Math.floor(Date.now() / 1000);
    const identity = await verifier.verify(await issueToken(origin, arya, EDGE_AUDIENCE, 900));

    expect(identity).toEqual({ ...arya, expiresAt: identity.expiresAt });
    // When the token ends: the edge closes the connection past it (tests/edge/token-expiry.test.ts).
    const expiresS = identity.expiresAt!.getTime() / 1000;
    expect(expiresS).toBeGreaterThanOrEqual(before + 900);
    expect(expiresS).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000) + 900);
  });

  it("twenty connections at a cold start share one JWKS request", async () => {
    const server = await startJwksServer(origin.jwks.keys);
    const { verifier } = verifierFor(server.url);
    const token = await issueToken(origin, arya, EDGE_AUDIENCE, 900);

    const identities = await Promise.all(Array.from({ length: 20 }, () => verifier.verify(token)));

    expect(identities.map((identity) => identity.userId)).toEqual(Array(20).fill("user-arya"));
    expect(server.requests).toBe(1);
  });

  it("once the keys are cached, tokens verify with no request to the origin", async () => {
    const server = await startJwksServer(origin.jwks.keys);
    const { verifier, clock } = verifierFor(server.url);
    await verifier.loadKeys();
    expect(server.requests).toBe(1);

    for (let i = 0; i < 50; i += 1) {
      clock.now += 1_000;
      await verifier.verify(await sign(origin, { claims: { name: `editor ${i}` } }));
    }

    expect(server.requests).toBe(1);
  });

  it("a token expired less than 5 s ago still verifies (clock skew between origin and edge)", async () => {
    const server = await startJwksServer(origin.jwks.keys);
    const { verifier } = verifierFor(server.url);

    await expect(verifier.verify(await sign(origin, { exp: Math.floor(Date.now() / 1000) - 2 }))).resolves.toMatchObject({
      userId: "user-arya",
    });
  });
});

describe("refusing a bad token", () => {
  it("an expired token is refused with its expiry time and where to get a new one", async () => {
    const server = await startJwksServer(origin.jwks.keys);
    const { verifier } = verifierFor(server.url);
    const exp = Math.floor(Date.now() / 1000) - 3600;

    const error = await expectRefused(verifier, await sign(origin, { exp }), "expired");

    const expiredAt = new Date(exp * 1000).toISOString().replace(".000Z", "Z");
    expect(error.message).toBe(`token expired at ${expiredAt}: ${GET_TOKEN}`);
  });

  it("a token signed by another key under the origin's kid is refused as forged", async () => {
    const server = await startJwksServer(origin.jwks.keys);
    const { verifier } = verifierFor(server.url);

    const error = await expectRefused(verifier, await sign({ privateKey: stranger.privateKey, kid: origin.kid }), "forged");

    expect(error.message).toBe(`token signature is invalid (forged or altered): ${GET_TOKEN}`);
  });

  it("a token whose payload was altered (a reader made admin) is refused as forged", async () => {
    const server = await startJwksServer(origin.jwks.keys);
    const { verifier } = verifierFor(server.url);
    const token = await sign(origin, { claims: { role: "reader" } });
    const [header, payload, signature] = token.split(".");
    const claims = JSON.parse(new TextDecoder().decode(base64url.decode(payload!))) as Record<string, unknown>;
    const tampered = [header, base64url.encode(JSON.stringify({ ...claims, role: "admin" })), signature].join(".");
    await expect(verifier.verify(token)).resolves.toMatchObject({ role: "reader" });

    await expectRefused(verifier, tampered, "forged");
  });

  it("a token with its signature cut off is refused as forged", async () => {
    const server = await startJwksServer(origin.jwks.keys);
    const { verifier } = verifierFor(server.url);
    const [header, payload] = (await sign(origin)).split(".");

    await expectRefused(verifier, `${header}.${payload}.`, "forged");
  });

  it("a session token is refused for its audience, naming both audiences", async () => {
    const server = await startJwksServer(origin.jwks.keys);
    const { verifier } = verifierFor(server.url);

    const error = await expectRefused(verifier, await issueToken(origin, arya, SESSION_AUDIENCE, 900), "audience");

    expect(error.message).toBe(`token is for "${SESSION_AUDIENCE}", not "${EDGE_AUDIENCE}": ${GET_TOKEN}`);
  });

  it("a token from another issuer is refused, naming it", async () => {
    const server = await startJwksServer(origin.jwks.keys);
    const { verifier } = verifierFor(server.url);

    const error = await expectRefused(verifier, await sign(origin, { issuer: "someone-else" }), "issuer");

    expect(error.message).toBe(`token was issued by "someone-else", not "${TOKEN_ISSUER}": ${GET_TOKEN}`);
  });

  it("a token whose claims the edge cannot read is refused, naming the claim", async () => {
    const server = await startJwksServer(origin.jwks.keys);
    const { verifier } = verifierFor(server.url);

    const error = await expectRefused(verifier, await sign(origin, { claims: { role: "overlord" } }), "claims");

    expect(error.message).toBe(`token claims are invalid ("role"): ${GET_TOKEN}`);
  });

  it("a missing token is refused, saying how to send one", async () => {
    const server = await startJwksServer(origin.jwks.keys);
    const { verifier } = verifierFor(server.url);

    for (const token of [null, ""]) {
      const error = await expectRefused(verifier, token, "missing");
      expect(error.message).toMatch(/^no token: connect with \?token=.*POST \/api\/auth\/token$/);
    }
    expect(server.requests).toBe(0);
  });

  it("malformed tokens are refused without asking the origin", async () => {
    const server = await startJwksServer(origin.jwks.keys);
    const { verifier } = verifierFor(server.url);
    const good = await sign(origin);
    const [header, payload] = good.split(".");

    for (const token of ["garbage", "a.b.c", `${header}.${payload}`, `x${good}`, "null.null.null"]) {
      await expectRefused(verifier, token, "malformed");
    }

    expect(server.requests).toBe(0);
  });

  it("a token signed with a shared secret (HS256) is refused for its algorithm without asking the origin", async () => {
    const server = await startJwksServer(origin.jwks.keys);
    const { verifier } = verifierFor(server.url);
    const hs256 = await new SignJWT({ name: "Arya", role: "admin", created: 0 })
      .setProtectedHeader({ alg: "HS256", kid: origin.kid })
      .setSubject("user-arya")
      .setIssuer(TOKEN_ISSUER)
      .setAudience(EDGE_AUDIENCE)
      .setExpirationTime("15m")
      .sign(new TextEncoder().encode("a secret anyone could have guessed"));

    const error = await expectRefused(verifier, hs256, "algorithm");

    expect(error.message).toBe(`token is signed with "HS256", not EdDSA: ${GET_TOKEN}`);
    expect(server.requests).toBe(0);
  });

  it("every refusal fits in a WebSocket close reason (123 bytes), even with long or non-ASCII claims", async () => {
    const server = await startJwksServer(origin.jwks.keys);
    const { verifier } = verifierFor(server.url);
    const long = "ж".repeat(300);
    const tokens = [
      null,
      "garbage",
      await sign(origin, { exp: 1 }),
      await sign(origin, { audience: long }),
      await sign(origin, { issuer: long }),
      await sign(origin, { claims: { role: long, name: 7, created: "yesterday" } }),
      await sign(stranger, { kid: long }),
      await sign(stranger, { kid: "k".repeat(44) }),
      await sign({ privateKey: stranger.privateKey, kid: origin.kid }),
    ];

    for (const token of tokens) {
      const error = await refusal(verifier, token);
      expect(Buffer.byteLength(error.message, "utf8"), error.message).toBeLessThanOrEqual(123);
    }
  });
});

describe("key rotation and the cooldown", () => {
  it("a token signed by a key rotated in after warm-up verifies after exactly one refresh", async () => {
    const server = await startJwksServer(origin.jwks.keys);
    const { verifier, clock } = verifierFor(server.url);
    await verifier.verify(await sign(origin));
    server.jwks = { keys: [...origin.jwks.keys, ...rotated.jwks.keys] };
    clock.now += COOLDOWN_MS;

    await expect(verifier.verify(await issueToken(rotated, arya, EDGE_AUDIENCE, 900))).resolves.toMatchObject(arya);
    await verifier.verify(await issueToken(rotated, arya, EDGE_AUDIENCE, 900));

    expect(server.requests).toBe(2);
  });

  it("an unknown kid refreshes the keys once; a second unknown kid within the cooldown makes no request", async () => {
    const server = await startJwksServer(origin.jwks.keys);
    const { verifier, clock } = verifierFor(server.url);
    await verifier.verify(await sign(origin));
    clock.now += COOLDOWN_MS;

    const first = await expectRefused(verifier, await sign(stranger, { kid: "garbage-1" }), "unknown-key");
    expect(server.requests).toBe(2);
    clock.now += COOLDOWN_MS - 1;
    for (let i = 2; i <= 100; i += 1) await expectRefused(verifier, await sign(stranger, { kid: `garbage-${i}` }), "unknown-key");

    expect(server.requests).toBe(2);
    expect(first.message).toBe(`token is signed by an unknown key "garbage-1": ${GET_TOKEN}`);
  });

  it("once the cooldown has passed, an unknown kid may refresh again", async () => {
    const server = await startJwksServer(origin.jwks.keys);
    const { verifier, clock } = verifierFor(server.url);
    await verifier.verify(await sign(origin));
    await expectRefused(verifier, await sign(stranger), "unknown-key");
    expect(server.requests).toBe(1);

    clock.now += COOLDOWN_MS;
    await expectRefused(verifier, await sign(stranger), "unknown-key");

    expect(server.requests).toBe(2);
  });

  it("a key the origin withdrew stops verifying once the periodic refresh has seen it gone", async () => {
    const server = await startJwksServer(origin.jwks.keys);
    const { verifier, clock } = verifierFor(server.url);
    const withdrawn = await sign(origin);
    await verifier.verify(withdrawn);
    server.jwks = rotated.jwks;

    clock.now += REFRESH_INTERVAL_MS;
    // The stale keys still serve while the refresh runs, so this one passes...
    await expect(verifier.verify(withdrawn)).resolves.toMatchObject({ userId: "user-arya" });
    // ...and once the refresh lands, the withdrawn key is unknown.
    const error = await vi.waitFor(() => expectRefused(verifier, withdrawn, "unknown-key"));
    expect(error.message).toBe(`token is signed by an unknown key "${origin.kid}": ${GET_TOKEN}`);
    await expect(verifier.verify(await sign(rotated))).resolves.toMatchObject({ userId: "user-arya" });
    expect(server.requests).toBe(2);
  });
});

describe("when the origin is down", () => {
  it("known keys keep verifying after the origin stops, also past the refresh interval", async () => {
    const server = await startJwksServer(origin.jwks.keys);
    const fetches: string[] = [];
    const { verifier, clock } = verifierFor(server.url, {
      fetch: (input, init) => {
        fetches.push(String(input));
        return fetch(input, init);
      },
    });
    const token = await sign(origin);
    await verifier.verify(token);
    await server.stop();

    await expect(verifier.verify(token)).resolves.toMatchObject({ userId: "user-arya" });
    clock.now += REFRESH_INTERVAL_MS;
    await expect(verifier.verify(token)).resolves.toMatchObject({ userId: "user-arya" });
    await vi.waitFor(() => expect(fetches).toHaveLength(2));
    clock.now += COOLDOWN_MS;
    await expect(verifier.verify(token)).resolves.toMatchObject({ userId: "user-arya" });
    await expect(verifier.verify(await issueToken(origin, arya, EDGE_AUDIENCE, 900))).resolves.toMatchObject(arya);
  });

  it("tokens with unknown kids make one request per cooldown to a down origin, and known keys still verify", async () => {
    const server = await startJwksServer(origin.jwks.keys);
    let attempts = 0;
    const { verifier, clock } = verifierFor(server.url, {
      fetch: (input, init) => {
        attempts += 1;
        return fetch(input, init);
      },
    });
    await verifier.loadKeys();
    await server.stop();
    clock.now += COOLDOWN_MS;

    for (let i = 0; i < 50; i += 1) {
      await expect(verifier.verify(await sign(stranger, { kid: `garbage-${i}` }))).rejects.toThrow();
      clock.now += 100;
    }

    expect(attempts).toBe(2);
    await expect(verifier.verify(await sign(origin))).resolves.toMatchObject({ userId: "user-arya" });
  });

  it("at a cold start, the error says the keys cannot be fetched and names the URL", async () => {
    const server = await startJwksServer(origin.jwks.keys);
    await server.stop();
    const { verifier } = verifierFor(server.url);

    const error = await verifier.verify(await sign(origin)).then(
      () => undefined,
      (reason: unknown) => reason,
    );

    expect(error).toBeInstanceOf(SigningKeysUnavailableError);
    expect(error).not.toBeInstanceOf(TokenError);
    expect((error as Error).message).toContain(`cannot fetch the origin's signing keys from ${server.url} (ECONNREFUSED)`);
  });

  it("at a cold start, a flood of tokens makes one request per second, not one per token", async () => {
    const server = await startJwksServer(origin.jwks.keys);
    await server.stop();
    let attempts = 0;
    const { verifier, clock } = verifierFor(server.url, {
      fetch: (input, init) => {
        attempts += 1;
        return fetch(input, init);
      },
    });
    const token = await sign(origin);

    for (let i = 0; i < 100; i += 1) {
      await expect(verifier.verify(token)).rejects.toBeInstanceOf(SigningKeysUnavailableError);
      clock.now += 5;
    }

    expect(attempts).toBe(1);
  });

  it("a cold-started edge verifies as soon as the origin answers again", async () => {
    const server = await startJwksServer(origin.jwks.keys);
    server.failure = { status: 503, body: "{}" };
    const { verifier, clock } = verifierFor(server.url);
    const token = await sign(origin);
    await expect(verifier.verify(token)).rejects.toThrow(/\(HTTP 503\)/);

    server.failure = undefined;
    clock.now += 1_000;

    await expect(verifier.verify(token)).resolves.toMatchObject({ userId: "user-arya" });
    expect(server.requests).toBe(2);
  });

  it("a replica started while the origin is down verifies with a peer's keys, and takes the origin's once it answers", async () => {
    const server = await startJwksServer(origin.jwks.keys);
    server.failure = { status: 503, body: "{}" };
    let peerAsked = 0;
    const { verifier, clock } = verifierFor(server.url, {
      peerKeys: async () => {
        peerAsked += 1;
        return origin.jwks;
      },
    });
    await expect(verifier.verify(await sign(origin))).resolves.toMatchObject({ userId: "user-arya" });
    expect(peerAsked).toBe(1);
    expect(verifier.heldKeySet()).toEqual(origin.jwks);
    // A forged token is still refused with a peer's keys.
    await expectRefused(verifier, await sign({ privateKey: stranger.privateKey, kid: origin.jwks.keys[0]!.kid! }), "forged");
    // Holding keys, it asks the peers no more: their copy could be older than its own.
    clock.now += COOLDOWN_MS;
    await verifier.verify(await sign(rotated)).catch(() => undefined);
    expect(peerAsked).toBe(1);

    // The origin is back and has rotated: after the cooldown it is asked again in the background.
    server.failure = undefined;
    server.jwks = rotated.jwks;
    clock.now += COOLDOWN_MS;
    await verifier.verify(await sign(origin)).catch(() => undefined);
    await vi.waitFor(() => expect(verifier.heldKeySet()).toEqual(rotated.jwks));
    await expect(verifier.verify(await issueToken(rotated, arya, EDGE_AUDIENCE, 900))).resolves.toMatchObject(arya);
  });

  it("with the origin down and no peer holding keys, the error is the origin's", async () => {
    const server = await startJwksServer(origin.jwks.keys);
    await server.stop();
    const { verifier } = verifierFor(server.url, { peerKeys: async () => undefined });
    await expect(verifier.verify(await sign(origin))).rejects.toThrow(/cannot fetch the origin's signing keys .*ECONNREFUSED/);
    const junk = verifierFor(server.url, { peerKeys: async () => ({ keys: "none" }) }).verifier;
    await expect(junk.verify(await sign(origin))).rejects.toBeInstanceOf(SigningKeysUnavailableError);
  });

  it("an origin answering something that is not a key set is reported as such", async () => {
    const server = await startJwksServer(origin.jwks.keys);
    const { verifier } = verifierFor(server.url);

    server.failure = { status: 200, body: "<html>maintenance</html>" };
    await expect(verifier.loadKeys()).rejects.toThrow(`${server.url} (the answer is not JSON)`);
    server.failure = { status: 200, body: JSON.stringify({ keys: "none" }) };
    await expect(verifierFor(server.url).verifier.loadKeys()).rejects.toThrow(
      `${server.url} (the answer is not a JSON Web Key Set)`,
    );
  });
});
