import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testDatabases } from "../../tests/support/databases";
import { startTestOrigin, type TestOrigin } from "../../tests/support/origin";
import { handleLogin, handleLogout, handleRegister, handleToken } from "./auth";
import { PEER_HEADER } from "./client";
import { handleSetProtection } from "./protection";

const SITE = "http://wiki.test";

function request(method: string, url: string, body: string, headers: Record<string, string>): Request {
  return new Request(`${SITE}${url}`, { method, headers: { host: "wiki.test", [PEER_HEADER]: "10.0.0.1", ...headers }, body });
}

const json = { "content-type": "application/json" };

describe.each(testDatabases)("cross-site requests on $name", (kind) => {
  let origin: TestOrigin;
  let adminCookie: string;
  const credentials = JSON.stringify({ name: "Littlefinger", password: "chaos is a ladder" });

  beforeAll(async () => {
    origin = await startTestOrigin(kind, { ORIGIN_ALLOWED_ORIGINS: "https://docs.wiki.test" });
    const registered = await handleRegister(origin, request("POST", "/api/auth/register", credentials, json));
    expect(registered.status).toBe(201);
    adminCookie = (registered.headers.get("set-cookie") ?? "").split(";")[0]!;
  });
  afterAll(async () => {
    await origin?.close();
  });

  it("a cross-site text/plain form posting to /api/auth/login is refused and sets no cookie", async () => {
    // What <form enctype="text/plain"> on another site sends: a body that happens to parse as JSON.
    const form = request("POST", "/api/auth/login", credentials, { "content-type": "text/plain", origin: "https://evil.example" });
    const response = await handleLogin(origin, form);
    expect(response.status).toBe(403);
    expect(response.headers.get("set-cookie")).toBeNull();
    expect(((await response.json()) as { message: string }).message).toMatch(/cross-site request refused: Origin "https:\/\/evil.example"/);
  });

  it("a text/plain body is refused with 415 even without an Origin", async () => {
    const response = await handleLogin(origin, request("POST", "/api/auth/login", credentials, { "content-type": "text/plain" }));
    expect(response.status).toBe(415);
    expect(response.headers.get("set-cookie")).toBeNull();
    expect(((await response.json()) as { message: string }).message).toMatch(/send `Content-Type: application\/json` \(got "text\/plain"\)/);
    const form = await handleLogin(origin, request("POST", "/api/auth/login", "name=x", { "content-type": "application/x-www-form-urlencoded" }));
    expect(form.status).toBe(415);
  });

  it("a JSON POST with a foreign Origin is refused; this site's own, a listed one, and none are accepted", async () => {
    const foreign = await handleLogin(origin, request("POST", "/api/auth/login", credentials, { ...json, origin: "http://wiki.test.evil.example" }));
    expect(foreign.status).toBe(403);
    const own = await handleLogin(origin, request("POST", "/api/auth/login", credentials, { ...json, origin: SITE }));
    expect(own.status).toBe(200);
    const listed = await handleLogin(origin, request("POST", "/api/auth/login", credentials, { ...json, origin: "https://docs.wiki.test" }));
    expect(listed.status).toBe(200);
    const none = await handleLogin(origin, request("POST", "/api/auth/login", credentials, json));
    expect(none.status).toBe(200);
  });

  it("a foreign page cannot change protection, log out or buy an edge token with the victim's cookie", async () => {
    const evil = { ...json, origin: "https://evil.example", cookie: adminCookie };
    const protection = await handleSetProtection(origin, request("PUT", "/api/pages/Winterfell/protection", JSON.stringify({ protection: "admin" }), evil), {
      slug: "Winterfell",
    });
    expect(protection.status).toBe(403);
    expect((await handleLogout(origin, request("POST", "/api/auth/logout", "{}", evil))).status).toBe(403);
    expect((await handleToken(origin, request("POST", "/api/auth/token", "{}", evil))).status).toBe(403);
    // The same from this site works: the session is still open.
    expect((await handleToken(origin, request("POST", "/api/auth/token", "{}", { ...evil, origin: SITE }))).status).toBe(200);
  });

  it("behind a trusted proxy, this site's origin is what the proxy forwarded", async () => {
    const proxied = await startTestOrigin(kind, { ORIGIN_TRUSTED_PROXIES: "10.9.9.9" });
    try {
      await handleRegister(proxied, request("POST", "/api/auth/register", credentials, json));
      const headers = { ...json, [PEER_HEADER]: "10.9.9.9", "x-forwarded-proto": "https", "x-forwarded-host": "wiki.example.org", origin: "https://wiki.example.org" };
      const response = await handleLogin(proxied, request("POST", "/api/auth/login", credentials, headers));
      expect(response.status).toBe(200);
      // A client that is not the proxy cannot claim the forwarded origin.
      const spoofed = await handleLogin(proxied, request("POST", "/api/auth/login", credentials, { ...headers, [PEER_HEADER]: "10.0.0.66" }));
      expect(spoofed.status).toBe(403);
    } finally {
      await proxied.close();
    }
  });
});
