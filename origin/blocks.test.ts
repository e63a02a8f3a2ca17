import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { blockNoticeSchema, type BlockNotice } from "../protocol/blocks";
import { testDatabases } from "../tests/support/databases";
import { startTestOrigin, type TestOrigin } from "../tests/support/origin";
import { handleLogin, handleRegister, handleToken } from "./http/auth";
import { handleBlock, handleBlockLog, handleInternalBlocks, handleListBlocks, handleUnblock } from "./http/blocks";
import { handleSetProtection } from "./http/protection";

const PASSWORD = "correct horse battery";

function request(method: string, path: string, options: { cookie?: string; body?: unknown; headers?: Record<string, string> } = {}): Request {
  return new Request(`http://origin.test${path}`, {
    method,
    headers: { "content-type": "application/json", ...(options.cookie ? { cookie: options.cookie } : {}), ...options.headers },
    body: method === "GET" ? undefined : JSON.stringify(options.body ?? {}),
  });
}

function cookieOf(response: Response): string {
  return (response.headers.get("set-cookie") ?? "").split(";")[0]!;
}

async function register(origin: TestOrigin, name: string): Promise<string> {
  const response = await handleRegister(origin, request("POST", "/api/auth/register", { body: { name, password: PASSWORD } }));
  expect(response.status, await response.clone().text()).toBe(201);
  return cookieOf(response);
}

const block = (origin: TestOrigin, cookie: string | undefined, body: unknown, headers?: Record<string, string>) =>
  handleBlock(origin, request("POST", "/api/blocks", { cookie, body, headers }));
const unblock = (origin: TestOrigin, cookie: string, name: string) => handleUnblock(origin, request("DELETE", `/api/blocks/${name}`, { cookie }), { name });
const token = (origin: TestOrigin, cookie: string) => handleToken(origin, request("POST", "/api/auth/token", { cookie }));

describe.each(testDatabases)("blocking accounts on $name", (kind) => {
  let origin: TestOrigin;
  let admin: string;
  const notices: BlockNotice[] = [];
  beforeAll(async () => {
    origin = await startTestOrigin(kind);
    origin.blockChanges.add((notice) => notices.push(notice));
    // The first account of a fresh install is its admin.
    admin = await register(origin, "Ned");
  });
  afterAll(() => origin?.close());

  const fresh = (prefix: string) => `${prefix}${randomUUID().slice(0, 6)}`;

  it("a blocked account gets no edge token: 403 `blocked` naming the reason and the end; unblocked, it gets one again", async () => {
    const name = fresh("Theon");
    const cookie = await register(origin, name);
    expect((await token(origin, cookie)).status).toBe(200);
    const expiresAt = new Date(Date.now() + 3_600_000).toISOString();
    const blocked = await block(origin, admin, { name, reason: "turned his cloak", expiresAt });
    expect(blocked.status, await blocked.clone().text()).toBe(200);
    expect(((await blocked.json()) as { block: unknown }).block).toMatchObject({ name, reason: "turned his cloak", expiresAt, blockedBy: "Ned" });

    const refused = await token(origin, cookie);
    expect(refused.status).toBe(403);
    const body = (await refused.json()) as { error: string; message: string };
    expect(body.error).toBe("blocked");
    expect(body.message).toContain("turned his cloak");
    expect(body.message).toContain(expiresAt);

    expect((await unblock(origin, admin, name)).status).toBe(200);
    expect((await token(origin, cookie)).status).toBe(200);
  });

  it("a blocked account may log in, to read, but its answer holds no edge token and says why", async () => {
    const name = fresh("Jorah");
    await register(origin, name);
    expect((await block(origin, admin, { name, reason: "spied for the usurper" })).status).toBe(200);
    const login = await handleLogin(origin, request("POST", "/api/auth/login", { body: { name, password: PASSWORD } }));
    expect(login.status).toBe(200);
    const body = (await login.json()) as { token: string | null; blocked?: string };
    expect(body.token).toBeNull();
    expect(body.blocked).toMatch(/blocked by an admin with no end date: spied for the usurper/);
  });

  it("an expired block counts for nothing: the token is issued and the list leaves it out", async () => {
    const name = fresh("Sandor");
    const cookie = await register(origin, name);
    const user = await origin.db.prisma.user.findFirstOrThrow({ where: { name } });
    const ned = await origin.db.prisma.user.findFirstOrThrow({ where: { name: "Ned" } });
    await origin.db.prisma.userBlock.create({ data: { userId: user.id, reason: "old quarrel", blockedById: ned.id, expiresAt: new Date(Date.now() - 1000) } });
    expect((await token(origin, cookie)).status).toBe(200);
    const list = (await (await handleListBlocks(origin, request("GET", "/api/blocks", { cookie: admin }))).json()) as { blocks: { name: string }[] };
    expect(list.blocks.map((entry) => entry.name)).not.toContain(name);
  });

  it("a blocked admin cannot write through the origin: protection changes and blocks are refused with the reason", async () => {
    const name = fresh("Cersei");
    const cookie = await register(origin, name);
    await origin.db.prisma.user.update({ where: { nameKey: name.toLowerCase() }, data: { role: "admin" } });
    expect((await block(origin, admin, { name, reason: "walk of shame" })).status).toBe(200);
    const protect = await handleSetProtection(origin, request("PUT", "/api/pages/Kings_Landing/protection", { cookie, body: { protection: "admin" } }), {
      slug: "Kings_Landing",
    });
    expect(protect.status).toBe(403);
    expect(await protect.json()).toMatchObject({ error: "blocked", message: expect.stringContaining("walk of shame") });
    const retaliation = await block(origin, cookie, { name: "Ned", reason: "treason" });
    expect(retaliation.status).toBe(403);
    expect(await retaliation.json()).toMatchObject({ error: "blocked" });
  });

  it("lists the active blocks for admins, and for edges with the service secret", async () => {
    const name = fresh("Ramsay");
    await register(origin, name);
    expect((await block(origin, admin, { name, reason: "flaying" })).status).toBe(200);
    const list = (await (await handleListBlocks(origin, request("GET", "/api/blocks", { cookie: admin }))).json()) as { blocks: { name: string; blockedBy: string }[] };
    expect(list.blocks).toContainEqual(expect.objectContaining({ name, blockedBy: "Ned" }));
    const internal = await handleInternalBlocks(origin, request("GET", "/api/internal/blocks", { headers: origin.edgeHeaders }));
    expect(internal.status).toBe(200);
    expect(((await internal.json()) as { blocks: { name: string }[] }).blocks.map((entry) => entry.name)).toContain(name);
    const noSecret = await handleInternalBlocks(origin, request("GET", "/api/internal/blocks"));
    expect(noSecret.status).toBe(401);
  });

  it("tells the edges of each block and unblock (the listeners the broker link publishes from)", async () => {
    const name = fresh("Arya");
    await register(origin, name);
    const user = await origin.db.prisma.user.findFirstOrThrow({ where: { name } });
    notices.length = 0;
    await block(origin, admin, { name, reason: "a girl has no name" });
    await unblock(origin, admin, name);
    expect(notices.map((notice) => blockNoticeSchema.parse(notice))).toEqual([
      { kind: "blocked", block: { userId: user.id, name, reason: "a girl has no name", expiresAt: null } },
      { kind: "unblocked", userId: user.id },
    ]);
  });

  it("refuses clearly: not an admin, unknown account, oneself, a past or malformed expiry, no reason, not blocked, another site", async () => {
    const name = fresh("Hodor");
    const editor = await register(origin, name);
    const cases: [Response, number, RegExp][] = [
      [await block(origin, editor, { name: "Ned", reason: "hodor" }), 403, new RegExp(`only an admin may block an account; ${name} is editor`)],
      [await block(origin, undefined, { name, reason: "x" }), 401, /not logged in/],
      [await block(origin, admin, { name: "Nobody_at_all", reason: "x" }), 404, /no account named "Nobody_at_all"/],
      [await block(origin, admin, { name: "ned", reason: "x" }), 400, /cannot block your own account/],
      [await block(origin, admin, { name, reason: "x", expiresAt: "2000-01-01T00:00:00Z" }), 400, /not in the future/],
      [await block(origin, admin, { name, reason: "x", expiresAt: "next tuesday" }), 400, /expiresAt: must be an ISO 8601 date/],
      [await block(origin, admin, { name, reason: "  " }), 400, /reason: is required/],
      [await unblock(origin, admin, name), 404, new RegExp(`${name} is not blocked`)],
      [await block(origin, admin, { name, reason: "x" }, { origin: "https://evil.example" }), 403, /cross-site request refused/],
      [await handleListBlocks(origin, request("GET", "/api/blocks", { cookie: editor })), 403, /only an admin may list blocks/],
    ];
    for (const [response, status, message] of cases) {
      const body = (await response.json()) as { message: string };
      expect({ status: response.status, message: body.message }).toEqual({ status, message: expect.stringMatching(message) });
    }
    expect(await origin.db.prisma.userBlock.count({ where: { user: { name } } })).toBe(0);
  });

  it("keeps a block log, newest first and public: blocks with their reason and end, unblocks with theirs, after the block is gone", async () => {
    const name = fresh("Jaime");
    await register(origin, name);
    const expiresAt = new Date(Date.now() + 86_400_000).toISOString();
    expect((await block(origin, admin, { name, reason: "pushed a boy from a tower", expiresAt })).status).toBe(200);
    const lifted = await handleUnblock(origin, request("DELETE", `/api/blocks/${name}`, { cookie: admin, body: { reason: "served his time" } }), { name });
    expect(lifted.status, await lifted.clone().text()).toBe(200);
    // Refused unblocks and blocks leave no line.
    expect((await unblock(origin, admin, name)).status).toBe(404);

    const read = await handleBlockLog(origin, new Request(`http://origin.test/api/blocks/log?user=${name}`));
    expect(read.status).toBe(200);
    const { entries } = (await read.json()) as { entries: { action: string; name: string; by: string; reason: string; expiresAt: string | null }[] };
    expect(entries).toEqual([
      expect.objectContaining({ action: "unblock", name, by: "Ned", reason: "served his time", expiresAt: null }),
      expect.objectContaining({ action: "block", name, by: "Ned", reason: "pushed a boy from a tower", expiresAt }),
    ]);
    // The active list no longer has it; the log does.
    const active = (await (await handleListBlocks(origin, request("GET", "/api/blocks", { cookie: admin }))).json()) as { blocks: { name: string }[] };
    expect(active.blocks.map((entry) => entry.name)).not.toContain(name);
    expect((await handleBlockLog(origin, new Request("http://origin.test/api/blocks/log?limit=0"))).status).toBe(400);
  });
});
