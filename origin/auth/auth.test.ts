import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createLocalJWKSet, generateKeyPair, jwtVerify, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EDGE_AUDIENCE, SESSION_AUDIENCE, TOKEN_ISSUER } from "../../protocol/token";
import { testDatabases } from "../../tests/support/databases";
import { startTestOrigin, type TestOrigin } from "../../tests/support/origin";
import { handleJwks, handleLogin, handleMe, handleRegister, handleToken } from "../http/auth";
import { loadSigningKeys } from "./keys";
import { hashPassword, needsRehash, scryptCost, verifyPassword } from "./passwords";
import { issueToken, verifyToken } from "./tokens";

function post(url: string, body: unknown, headers: Record<string, string> = {}): Request {
  return new Request(`http://origin.test${url}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

function cookieOf(response: Response): string {
  const setCookie = response.headers.get("set-cookie") ?? "";
  return setCookie.split(";")[0]!;
}

describe("passwords", () => {
  it("a hash verifies its password and no other, at N = 2^17, r = 8, p = 1 by default", async () => {
    const hash = await hashPassword("winter is coming");
    expect(hash).toMatch(/^scrypt\$131072\$8\$1\$/);
    expect(await verifyPassword("winter is coming", hash)).toBe(true);
    expect(await verifyPassword("winter is here", hash)).toBe(false);
  });

  it("a hash cheaper than the configured cost needs redoing; an equal or dearer one does not", async () => {
    const old = await hashPassword("the north remembers", scryptCost(14));
    expect(old).toMatch(/^scrypt\$16384\$8\$1\$/);
    expect(needsRehash(old, scryptCost(17))).toBe(true);
    expect(needsRehash(old, scryptCost(14))).toBe(false);
    expect(needsRehash(old, scryptCost(12))).toBe(false);
    expect(await verifyPassword("the north remembers", old)).toBe(true);
  });

  it("two hashes of one password differ (salted)", async () => {
    expect(await hashPassword("hodor hodor", scryptCost(14))).not.toBe(await hashPassword("hodor hodor", scryptCost(14)));
  });
});

describe("signing keys", () => {
  it("are generated on first start and kept across restarts", async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), "weirwood-keys-"));
    try {
      const first = await loadSigningKeys({ keyFile: undefined, dataDir });
      const second = await loadSigningKeys({ keyFile: undefined, dataDir });
      expect(second.kid).toBe(first.kid);
      expect(first.jwks.keys[0]).toMatchObject({ kty: "OKP", crv: "Ed25519", alg: "EdDSA", kid: first.kid });
      expect(first.jwks.keys[0]).not.toHaveProperty("d");
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it("a missing key file is a clear error", async () => {
    await expect(loadSigningKeys({ keyFile: "/nonexistent/key.pem", dataDir: tmpdir() })).rejects.toThrow(
      /ORIGIN_SIGNING_KEY_FILE: cannot read \/nonexistent\/key.pem/,
    );
  });
});

describe.each(testDatabases)("accounts and tokens on $name", (kind) => {
  let origin: TestOrigin;
  beforeAll(async () => {
    origin = await startTestOrigin(kind);
  });
  afterAll(async () => {
    await origin?.close();
  });

  it("the first account is admin, later ones are editors, and names are unique whatever their case", async () => {
    const first = await handleRegister(origin, post("/api/auth/register", { name: "Daenerys", password: "dracarys!" }));
    expect(first.status).toBe(201);
    expect(((await first.json()) as { user: { role: string } }).user.role).toBe("admin");

    const second = await handleRegister(origin, post("/api/auth/register", { name: "Tyrion", password: "i drink and i know" }));
    expect(((await second.json()) as { user: { role: string } }).user.role).toBe("editor");

    const taken = await handleRegister(origin, post("/api/auth/register", { name: "tyrion", password: "another one" }));
    expect(taken.status).toBe(409);
    expect(((await taken.json()) as { message: string }).message).toMatch(/taken/);
  });

  it("register answers a token the edges can verify with the published keys, and sets a session cookie", async () => {
    const response = await handleRegister(origin, post("/api/auth/register", { name: "Brienne", password: "oathkeeper" }));
    const { token } = (await response.json()) as { token: string };
    expect(response.headers.get("set-cookie")).toMatch(/^weirwood_session=.+; Path=\/; HttpOnly; SameSite=Lax; Max-Age=\d+$/);

    const jwks = (await handleJwks(origin).json()) as Parameters<typeof createLocalJWKSet>[0];
    const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(jwks), {
      issuer: TOKEN_ISSUER,
      audience: EDGE_AUDIENCE,
    });
    expect(protectedHeader).toMatchObject({ alg: "EdDSA", kid: origin.keys.kid });
    expect(payload).toMatchObject({ name: "Brienne", role: "editor" });
    expect(payload.exp! - payload.iat!).toBe(origin.config.tokenTtlSeconds);
  });

  it("login with the right password answers a token; a wrong password or unknown name is refused alike", async () => {
    await handleRegister(origin, post("/api/auth/register", { name: "Jaime", password: "the things i do" }));
    const ok = await handleLogin(origin, post("/api/auth/login", { name: "jaime", password: "the things i do" }));
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { token: string }).token).toMatch(/^ey/);

    const wrong = await handleLogin(origin, post("/api/auth/login", { name: "Jaime", password: "for love" }));
    const unknown = await handleLogin(origin, post("/api/auth/login", { name: "Nobody", password: "a girl has no name" }));
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(await wrong.json()).toEqual(await unknown.json());
  });

  it("bad credentials get a 400 naming the field", async () => {
    const short = await handleRegister(origin, post("/api/auth/register", { name: "Sam", password: "short" }));
    expect(short.status).toBe(400);
    expect(((await short.json()) as { message: string }).message).toMatch(/password: must be at least 8/);
    const wrongType = await handleRegister(origin, post("/api/auth/register", { name: 42, password: "long enough" }));
    expect(wrongType.status).toBe(400);
    expect(((await wrongType.json()) as { message: string }).message).toMatch(/^name:/);
    const notJson = await handleRegister(origin, post("/api/auth/register", "name=Sam"));
    expect(notJson.status).toBe(400);
  });

  it("the session cookie buys a fresh edge token and names the user", async () => {
    const registered = await handleRegister(origin, post("/api/auth/register", { name: "Sansa", password: "lady of winterfell" }));
    const cookie = cookieOf(registered);
    const token = await handleToken(origin, post("/api/auth/token", {}, { cookie }));
    expect(token.status).toBe(200);
    const me = await handleMe(origin, new Request("http://origin.test/api/auth/me", { headers: { cookie } }));
    expect(((await me.json()) as { user: { name: string } }).user.name).toBe("Sansa");
    const none = await handleToken(origin, post("/api/auth/token", {}));
    expect(none.status).toBe(401);
  });

  it("a forged, expired, tampered or wrongly addressed token is refused", async () => {
    const identity = { userId: "00000000-0000-4000-8000-000000000001", name: "Arya", role: "admin" as const, createdAt: new Date() };
    const good = await issueToken(origin.keys, identity, SESSION_AUDIENCE, 60);
    await expect(verifyToken(origin.keys, good, SESSION_AUDIENCE)).resolves.toMatchObject({ name: "Arya" });

    const { privateKey: otherKey } = await generateKeyPair("EdDSA", { crv: "Ed25519" });
    const forged = await new SignJWT({ name: "Arya", role: "admin", created: 0 })
      .setProtectedHeader({ alg: "EdDSA", kid: origin.keys.kid })
      .setSubject(identity.userId)
      .setIssuer(TOKEN_ISSUER)
      .setAudience(SESSION_AUDIENCE)
      .setExpirationTime("1h")
      .sign(otherKey);
    await expect(verifyToken(origin.keys, forged, SESSION_AUDIENCE)).rejects.toThrow(/token refused: signature verification failed/);

    const expired = await new SignJWT({ name: "Arya", role: "admin", created: 0 })
      .setProtectedHeader({ alg: "EdDSA", kid: origin.keys.kid })
      .setSubject(identity.userId)
      .setIssuer(TOKEN_ISSUER)
      .setAudience(SESSION_AUDIENCE)
      .setIssuedAt(Math.floor(Date.now() / 1000) - 7200)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 3600)
      .sign(origin.keys.privateKey);
    await expect(verifyToken(origin.keys, expired, SESSION_AUDIENCE)).rejects.toThrow(/token refused: .*"exp"/);

    const [header, payload, signature] = good.split(".") as [string, string, string];
    const raised = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, "base64url").toString()), role: "admin", name: "Cersei" })).toString("base64url");
    await expect(verifyToken(origin.keys, `${header}.${raised}.${signature}`, SESSION_AUDIENCE)).rejects.toThrow(/token refused/);

    const edgeToken = await issueToken(origin.keys, identity, EDGE_AUDIENCE, 60);
    await expect(verifyToken(origin.keys, edgeToken, SESSION_AUDIENCE)).rejects.toThrow(/token refused: .*"aud"/);
    await expect(verifyToken(origin.keys, "not-a-jwt", SESSION_AUDIENCE)).rejects.toThrow(/token refused/);
  });
});
