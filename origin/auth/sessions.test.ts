import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testDatabases } from "../../tests/support/databases";
import { startTestOrigin, type TestOrigin } from "../../tests/support/origin";
import { handleLogin, handleLogout, handleMe, handleRegister, handleToken } from "../http/auth";
import { PEER_HEADER } from "../http/client";
import { hashPassword, scryptCost } from "./passwords";

function post(url: string, body: unknown, headers: Record<string, string> = {}): Request {
  return new Request(`http://origin.test${url}`, {
    method: "POST",
    headers: { "content-type": "application/json", [PEER_HEADER]: "10.0.0.1", ...headers },
    body: JSON.stringify(body),
  });
}

function cookieOf(response: Response): string {
  return (response.headers.get("set-cookie") ?? "").split(";")[0]!;
}

describe.each(testDatabases)("sessions and password hashes on $name", (kind) => {
  let origin: TestOrigin;
  beforeAll(async () => {
    origin = await startTestOrigin(kind, { ORIGIN_SCRYPT_LOG_N: "12", ORIGIN_TRUSTED_PROXIES: "10.9.9.9" });
  });
  afterAll(async () => {
    await origin?.close();
  });

  it("logout ends the session: the old cookie buys no edge token, while another session of the account goes on", async () => {
    const credentials = { name: "Theon", password: "what is dead may never die" };
    const first = cookieOf(await handleRegister(origin, post("/api/auth/register", credentials)));
    const second = cookieOf(await handleLogin(origin, post("/api/auth/login", credentials)));
    expect((await handleToken(origin, post("/api/auth/token", {}, { cookie: first }))).status).toBe(200);

    const logout = await handleLogout(origin, post("/api/auth/logout", {}, { cookie: first }));
    expect(logout.status).toBe(200);
    expect(logout.headers.get("set-cookie")).toMatch(/^weirwood_session=; .*Max-Age=0/);

    // A copy of the cookie kept from before the logout:
    const replayed = await handleToken(origin, post("/api/auth/token", {}, { cookie: first }));
    expect(replayed.status).toBe(401);
    expect(((await replayed.json()) as { message: string }).message).toMatch(/this session has ended/);
    const me = await handleMe(origin, new Request("http://origin.test/api/auth/me", { headers: { cookie: first } }));
    expect(me.status).toBe(401);
    expect((await handleToken(origin, post("/api/auth/token", {}, { cookie: second }))).status).toBe(200);
  });

  it("the session cookie is Secure when the browser came over HTTPS through a trusted proxy, and only then", async () => {
    const credentials = { name: "Yara", password: "we do not sow" };
    await handleRegister(origin, post("/api/auth/register", credentials));
    const plain = await handleLogin(origin, post("/api/auth/login", credentials));
    expect(plain.headers.get("set-cookie")).not.toMatch(/Secure/);
    const proxied = await handleLogin(origin, post("/api/auth/login", credentials, { [PEER_HEADER]: "10.9.9.9", "x-forwarded-proto": "https" }));
    expect(proxied.headers.get("set-cookie")).toMatch(/; Secure$/);
    // Anyone else claiming HTTPS is not believed.
    const claimed = await handleLogin(origin, post("/api/auth/login", credentials, { "x-forwarded-proto": "https" }));
    expect(claimed.headers.get("set-cookie")).not.toMatch(/Secure/);
    const direct = await handleLogin(origin, new Request("https://origin.test/api/auth/login", post("/api/auth/login", credentials)));
    expect(direct.headers.get("set-cookie")).toMatch(/; Secure$/);
  });

  it("a hash older and cheaper than the configured cost is redone at the next right login, and still verifies", async () => {
    const credentials = { name: "Samwell", password: "i read it in a book" };
    const registered = (await (await handleRegister(origin, post("/api/auth/register", credentials))).json()) as { user: { id: string } };
    const old = await hashPassword(credentials.password, scryptCost(10));
    await origin.db.prisma.user.update({ where: { id: registered.user.id }, data: { passwordHash: old } });

    expect((await handleLogin(origin, post("/api/auth/login", { ...credentials, password: "wrong password" }))).status).toBe(401);
    expect((await origin.db.prisma.user.findUniqueOrThrow({ where: { id: registered.user.id } })).passwordHash).toBe(old);

    expect((await handleLogin(origin, post("/api/auth/login", credentials))).status).toBe(200);
    const rehashed = (await origin.db.prisma.user.findUniqueOrThrow({ where: { id: registered.user.id } })).passwordHash;
    expect(rehashed).toMatch(/^scrypt\$4096\$8\$1\$/);
    expect((await handleLogin(origin, post("/api/auth/login", credentials))).status).toBe(200);
    expect((await origin.db.prisma.user.findUniqueOrThrow({ where: { id: registered.user.id } })).passwordHash).toBe(rehashed);
  });
});
