import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as Y from "yjs";
import type { Slug } from "../common/slug";
import type { DeletionNotice } from "../protocol/deletions";
import { type FlushBatch, pageStateSchema, toBase64 } from "../protocol/flush";
import { testDatabases } from "../tests/support/databases";
import { startTestOrigin, type TestOrigin } from "../tests/support/origin";
import { handleRegister } from "./http/auth";
import { handleDeletePage, handleInternalDeletedPages, handleListDeletions, handleUndeletePage } from "./http/deletion";
import { handleFlush } from "./http/flush";
import { handlePageState } from "./http/page-state";
import { handleGetBacklinks, handleGetHistory, handleGetPage, handleRecentChanges, handleSearch, handleWantedPages } from "./http/reads";
import { existingSlugs } from "./links";
import { readPageView } from "./page-view";
import { refreshAllPages } from "./text-refresh";

/**
 * Issue 22, "Delete and undelete", at the origin: a deleted page is gone
 * from every read, its history (and any flush that comes after the delete)
 * is kept, and undelete brings all of it back. Each case on PGlite and on
 * Postgres.
 */
function uniqueSlug(prefix: string): string {
  return `${prefix}_${randomUUID().slice(0, 8)}`;
}

function request(path: string, init: RequestInit = {}): Request {
  return new Request(`http://origin.test${path}`, init);
}

/** Flushes what `doc` holds beyond `since` as an edge would. */
async function flush(origin: TestOrigin, slug: string, doc: Y.Doc, since?: Uint8Array): Promise<void> {
  const batch: FlushBatch = {
    batchId: `test-${randomUUID()}`,
    pop: "us-east",
    edge: "us-east-a",
    pages: [{ slug, update: toBase64(Y.encodeStateAsUpdate(doc, since)), stateVector: toBase64(since ?? new Uint8Array([0])), editCount: 1, authors: ["Arya"] }],
  };
  const response = await handleFlush(origin, request("/api/internal/flush", { method: "POST", headers: origin.edgeHeaders, body: JSON.stringify(batch) }));
  expect(response.status, await response.clone().text()).toBe(200);
}

async function createPage(origin: TestOrigin, slug: string, text: string): Promise<Y.Doc> {
  const doc = new Y.Doc();
  doc.getText("body").insert(0, text);
  await flush(origin, slug, doc);
  return doc;
}

async function register(origin: TestOrigin, name: string): Promise<string> {
  const response = await handleRegister(
    origin,
    request("/api/auth/register", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name, password: "correct horse battery" }) }),
  );
  expect(response.status).toBe(201);
  return (response.headers.get("set-cookie") ?? "").split(";")[0]!;
}

function post(path: string, body: unknown, cookie?: string, headers: Record<string, string> = {}): Request {
  return request(path, { method: "POST", headers: { "content-type": "application/json", ...(cookie ? { cookie } : {}), ...headers }, body: JSON.stringify(body) });
}

async function read<T>(response: Promise<Response>, status = 200): Promise<T> {
  const answer = await response;
  const text = await answer.text();
  expect(answer.status, text).toBe(status);
  return JSON.parse(text) as T;
}

describe.each(testDatabases)("deleting and undeleting a page on $name", (kind) => {
  let origin: TestOrigin;
  let admin: string;
  let editor: string;
  const notices: DeletionNotice[] = [];
  const del = (slug: string, body: unknown, cookie = admin, headers?: Record<string, string>) =>
    handleDeletePage(origin, post(`/api/pages/${slug}/delete`, body, cookie, headers), { slug });
  const undel = (slug: string, body: unknown, cookie = admin) => handleUndeletePage(origin, post(`/api/pages/${slug}/undelete`, body, cookie), { slug });

  beforeAll(async () => {
    origin = await startTestOrigin(kind);
    admin = await register(origin, "Cersei"); // the first account is the admin
    editor = await register(origin, "Tyrion");
    origin.deletionChanges.add((notice) => notices.push(notice));
  });
  afterAll(async () => {
    await origin?.close();
  });

  it("a deleted page is gone from reads, search, links and recent changes, and tells the edges; undelete brings it all back", async () => {
    const word = `sept${randomUUID().slice(0, 8)}`;
    const slug = uniqueSlug("Great_Sept");
    const linking = uniqueSlug("Kings_Landing");
    await createPage(origin, slug, `Baelor's ${word}. See [[${linking}]].`);
    await createPage(origin, linking, `Home of [[${slug}]].`);
    await refreshAllPages(origin.db.prisma, { search: true });

    const deleted = await read<{ entry: Record<string, unknown> }>(del(slug, { reason: "wildfire" }));
    expect(deleted.entry).toMatchObject({ slug, action: "delete", reason: "wildfire", by: "Cersei" });
    expect(notices.at(-1)).toEqual({ kind: "deleted", page: { slug, reason: "wildfire" } });

    expect(await read(handleGetPage(origin, request(`/api/pages/${slug}`), { slug }), 410)).toMatchObject({ error: "deleted" });
    expect(await read(handleGetHistory(origin, request(`/api/pages/${slug}/history`), { slug }), 410)).toMatchObject({ error: "deleted" });
    expect(await readPageView(origin.db.prisma, slug as Slug)).toEqual({ deleted: { slug } });
    const found = await read<{ results: { slug: string }[] }>(handleSearch(origin, request(`/api/search?q=${word}`)));
    expect(found.results.map((result) => result.slug)).not.toContain(slug);
    const changes = await read<{ changes: { slug: string }[] }>(handleRecentChanges(origin, request("/api/recent-changes?limit=500")));
    expect(changes.changes.map((change) => change.slug)).not.toContain(slug);
    // [[It]] is a red link again, and wanted; its own links count for nothing.
    expect(await existingSlugs(origin.db.prisma, { slugs: [slug as Slug, linking as Slug] })).toEqual(new Set([linking]));
    const wanted = await read<{ pages: { slug: string }[] }>(handleWantedPages(origin, request("/api/wanted-pages?limit=500")));
    expect(wanted.pages.map((page) => page.slug)).toContain(slug);
    const backlinks = await read<{ backlinks: { slug: string }[] }>(handleGetBacklinks(origin, request(`/api/pages/${linking}/backlinks`), { slug: linking }));
    expect(backlinks.backlinks).toEqual([]);
    // The edges: the page's state says so, and so does their recheck.
    const state = pageStateSchema.parse(await read(handlePageState(origin, request(`/api/internal/pages/${slug}/state`, { headers: origin.edgeHeaders }), { slug })));
    expect(state.deleted).toEqual({ reason: "wildfire" });
    const asked = await read<{ deleted: unknown[] }>(
      handleInternalDeletedPages(origin, post("/api/internal/deleted-pages", { slugs: [slug, linking] }, undefined, origin.edgeHeaders)),
    );
    expect(asked.deleted).toEqual([{ slug, reason: "wildfire" }]);

    await read(undel(slug, { reason: "it was a mistake" }));
    expect(notices.at(-1)).toEqual({ kind: "undeleted", slug });
    const page = await read<{ text: string }>(handleGetPage(origin, request(`/api/pages/${slug}`), { slug }));
    expect(page.text).toBe(`Baelor's ${word}. See [[${linking}]].`);
    const again = await read<{ results: { slug: string }[] }>(handleSearch(origin, request(`/api/search?q=${word}`)));
    expect(again.results.map((result) => result.slug)).toContain(slug);
    expect(await existingSlugs(origin.db.prisma, { slugs: [slug as Slug] })).toEqual(new Set([slug]));
    const after = await read<{ deleted: unknown[] }>(handleInternalDeletedPages(origin, post("/api/internal/deleted-pages", { slugs: [slug] }, undefined, origin.edgeHeaders)));
    expect(after.deleted).toEqual([]);
  });

  it("a flush that reaches the origin after the delete does not bring the page back, and undelete has its text in the history", async () => {
    const slug = uniqueSlug("Sept_of_Baelor");
    const doc = await createPage(origin, slug, "Before.");
    await refreshAllPages(origin.db.prisma);
    await read(del(slug, { reason: "vandalism" }));

    // An edit an edge acknowledged just before the delete, flushed just after it.
    const since = Y.encodeStateVector(doc);
    doc.getText("body").insert(doc.getText("body").length, " After.");
    await flush(origin, slug, doc, since);
    await refreshAllPages(origin.db.prisma);
    expect(await read(handleGetPage(origin, request(`/api/pages/${slug}`), { slug }), 410)).toMatchObject({ error: "deleted" });

    await read(undel(slug, { reason: "restored" }));
    expect((await read<{ text: string }>(handleGetPage(origin, request(`/api/pages/${slug}`), { slug }))).text).toBe("Before. After.");
    const history = await read<{ revisions: { number: number }[] }>(handleGetHistory(origin, request(`/api/pages/${slug}/history`), { slug }));
    expect(history.revisions.length).toBeGreaterThanOrEqual(1);
  });

  it("the deletion log holds every delete and undelete, who, when and why, newest first, for admins only", async () => {
    const slug = uniqueSlug("Harrenhal");
    await createPage(origin, slug, "Cursed.");
    await read(del(slug, { reason: "burned" }));
    await read(undel(slug, { reason: "rebuilt" }));
    const { entries } = await read<{ entries: { action: string; reason: string; by: string; at: string }[] }>(
      handleListDeletions(origin, request(`/api/deletions?slug=${slug}`, { headers: { cookie: admin } })),
    );
    expect(entries.map(({ action, reason, by }) => ({ action, reason, by }))).toEqual([
      { action: "undelete", reason: "rebuilt", by: "Cersei" },
      { action: "delete", reason: "burned", by: "Cersei" },
    ]);
    expect(Date.parse(entries[0]!.at)).toBeGreaterThanOrEqual(Date.parse(entries[1]!.at));
    await read(handleListDeletions(origin, request("/api/deletions", { headers: { cookie: editor } })), 403);
    await read(handleListDeletions(origin, request("/api/deletions")), 401);
  });

  it("refuses a delete without a reason, by a non-admin, from another site, of a missing or already deleted page", async () => {
    const slug = uniqueSlug("Casterly_Rock");
    await createPage(origin, slug, "Gold.");
    expect(await read<{ message: string }>(del(slug, {}), 400)).toMatchObject({ message: expect.stringContaining("reason") });
    expect(await read<{ message: string }>(del(slug, { reason: "   " }), 400)).toMatchObject({ message: expect.stringContaining("reason") });
    expect(await read(del(slug, { reason: "mine" }, editor), 403)).toMatchObject({ error: "forbidden" });
    expect(await read(del(slug, { reason: "mine" }, admin, { origin: "https://evil.example" }), 403)).toMatchObject({ error: "forbidden" });
    const plain = await handleDeletePage(
      origin,
      request(`/api/pages/${slug}/delete`, { method: "POST", headers: { "content-type": "text/plain", cookie: admin }, body: JSON.stringify({ reason: "x" }) }),
      { slug },
    );
    expect(plain.status).toBe(415);
    expect((await handleGetPage(origin, request(`/api/pages/${slug}`), { slug })).status).toBe(200);

    await read(del(uniqueSlug("Nowhere"), { reason: "x" }), 404);
    await read(undel(slug, { reason: "x" }), 409);
    await read(del(slug, { reason: "first" }));
    await read(del(slug, { reason: "second" }), 409);
    await read(undel(slug, { reason: "x" }, editor), 403);
  });
});
