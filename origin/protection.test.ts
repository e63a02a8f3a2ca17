import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as Y from "yjs";
import type { Slug } from "../common/slug";
import { type FlushBatch, toBase64 } from "../protocol/flush";
import { testDatabases } from "../tests/support/databases";
import { startTestOrigin, type TestOrigin } from "../tests/support/origin";
import { handleRegister } from "./http/auth";
import { handleFlush } from "./http/flush";
import { handleSetProtection } from "./http/protection";
import { handleGetPage } from "./http/reads";
import { existingSlugs } from "./links";
import { writePermission } from "./protection";

function uniqueSlug(prefix: string): string {
  return `${prefix}_${randomUUID().slice(0, 8)}`;
}

async function createPage(origin: TestOrigin, slug: string, text: string): Promise<void> {
  const doc = new Y.Doc();
  doc.getText("body").insert(0, text);
  const batch: FlushBatch = {
    batchId: `test-${randomUUID()}`,
    pop: "us-east",
    edge: "us-east-a",
    pages: [{ slug, update: toBase64(Y.encodeStateAsUpdate(doc)), stateVector: toBase64(Y.encodeStateVector(doc)), editCount: 1, authors: ["Arya"] }],
  };
  const response = await handleFlush(
    origin,
    new Request("http://origin.test/api/internal/flush", { method: "POST", headers: origin.edgeHeaders, body: JSON.stringify(batch) }),
  );
  expect(response.status, await response.clone().text()).toBe(200);
}

/** Registers an account and answers its session cookie. */
async function register(origin: TestOrigin, name: string): Promise<string> {
  const response = await handleRegister(
    origin,
    new Request("http://origin.test/api/auth/register", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name, password: "correct horse battery" }),
    }),
  );
  expect(response.status).toBe(201);
  return (response.headers.get("set-cookie") ?? "").split(";")[0]!;
}

function protect(origin: TestOrigin, slug: string, body: unknown, cookie?: string): Promise<Response> {
  return handleSetProtection(
    origin,
    new Request(`http://origin.test/api/pages/${encodeURIComponent(slug)}/protection`, {
      method: "PUT",
      headers: { "content-type": "application/json", ...(cookie ? { cookie } : {}) },
      body: JSON.stringify(body),
    }),
    { slug },
  );
}

async function protectionOf(origin: TestOrigin, slug: string): Promise<string> {
  const response = await handleGetPage(origin, new Request(`http://origin.test/api/pages/${slug}`), { slug });
  return ((await response.json()) as { protection: string }).protection;
}

describe.each(testDatabases)("page protection on $name", (kind) => {
  let origin: TestOrigin;
  let adminCookie: string;
  let editorCookie: string;
  beforeAll(async () => {
    origin = await startTestOrigin(kind);
    adminCookie = await register(origin, "Cersei"); // the first account is the admin
    editorCookie = await register(origin, "Tyrion");
  });
  afterAll(async () => {
    await origin?.close();
  });

  it("an admin protects a page and unprotects it again", async () => {
    const slug = uniqueSlug("Red_Keep");
    await createPage(origin, slug, "The seat of the king.");

    const protectedAnswer = await protect(origin, slug, { protection: "admin" }, adminCookie);
    expect(protectedAnswer.status).toBe(200);
    expect(await protectedAnswer.json()).toEqual({ slug, protection: "admin", protectedBy: "Cersei" });
    expect(await protectionOf(origin, slug)).toBe("admin");

    const unprotected = await protect(origin, slug, { protection: "none" }, adminCookie);
    expect(await unprotected.json()).toEqual({ slug, protection: "none", protectedBy: null });
    expect(await protectionOf(origin, slug)).toBe("none");
  });

  it("an editor may not change protection: 403 and the page stays as it was", async () => {
    const slug = uniqueSlug("Small_Council");
    await createPage(origin, slug, "Advisors.");
    const response = await protect(origin, slug, { protection: "admin" }, editorCookie);
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ error: "forbidden", message: expect.stringContaining("only an admin") });
    expect(await protectionOf(origin, slug)).toBe("none");
  });

  it("without a session cookie the answer is 401", async () => {
    const slug = uniqueSlug("Iron_Throne");
    await createPage(origin, slug, "Uncomfortable.");
    const response = await protect(origin, slug, { protection: "admin" });
    expect(response.status).toBe(401);
    expect(await protectionOf(origin, slug)).toBe("none");
  });

  it("a page that does not exist is a 404, a bad level or slug a 400", async () => {
    expect((await protect(origin, uniqueSlug("Nowhere"), { protection: "admin" }, adminCookie)).status).toBe(404);
    const slug = uniqueSlug("Dragonstone");
    await createPage(origin, slug, "Rock.");
    const badLevel = await protect(origin, slug, { protection: "everyone" }, adminCookie);
    expect(badLevel.status).toBe(400);
    expect(((await badLevel.json()) as { message: string }).message).toContain("protection");
    expect((await protect(origin, "lower case", { protection: "admin" }, adminCookie)).status).toBe(400);
  });

  it("existingSlugs answers which of many link targets exist, in one call", async () => {
    const present = uniqueSlug("Braavos");
    await createPage(origin, present, "Free city.");
    const absent = uniqueSlug("Valyria") as Slug;
    expect(await existingSlugs(origin.db.prisma, { slugs: [present as Slug, absent] })).toEqual(new Set([present]));
    expect(await existingSlugs(origin.db.prisma, { slugs: [] })).toEqual(new Set());
  });
});

describe("write permission", () => {
  it("says why a visitor, a reader or an editor on a protected page may not write", () => {
    expect(writePermission(null, "none")).toEqual({ canWrite: false, reason: "Log in to edit this page." });
    expect(writePermission({ role: "reader" }, "none")).toMatchObject({ canWrite: false, reason: expect.stringContaining("read but not edit") });
    expect(writePermission({ role: "editor" }, "admin")).toMatchObject({ canWrite: false, reason: expect.stringContaining("protected") });
    expect(writePermission({ role: "editor" }, "none")).toEqual({ canWrite: true });
    expect(writePermission({ role: "admin" }, "admin")).toEqual({ canWrite: true });
  });
});
