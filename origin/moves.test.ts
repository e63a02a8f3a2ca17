import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as Y from "yjs";
import type { Slug } from "../common/slug";
import type { DeletionNotice } from "../protocol/deletions";
import { type FlushAnswer, type FlushBatch, fromBase64, pageStateSchema, toBase64 } from "../protocol/flush";
import { testDatabases } from "../tests/support/databases";
import { startTestOrigin, type TestOrigin } from "../tests/support/origin";
import { handleRegister } from "./http/auth";
import { handleInternalDeletedPages } from "./http/deletion";
import { handleFlush } from "./http/flush";
import { handleListMoves, handleMovePage } from "./http/moves";
import { handlePageState } from "./http/page-state";
import { handleGetHistory, handleGetPage, handleWantedPages } from "./http/reads";
import { existingSlugs } from "./links";
import { readPageView } from "./page-view";
import { refreshAllPages } from "./text-refresh";

/**
 * Issue 22, "Move (rename) a page", at the origin: the page keeps its
 * history under its new name, the old name redirects and stays linked, the
 * edges are told, and a flush an edge sends under the old name after the
 * move lands on the page. Each case on PGlite and on Postgres.
 */
const uniqueSlug = (prefix: string) => `${prefix}_${randomUUID().slice(0, 8)}`;
const request = (path: string, init: RequestInit = {}) => new Request(`http://origin.test${path}`, init);
const post = (path: string, body: unknown, cookie?: string, headers: Record<string, string> = {}) =>
  request(path, { method: "POST", headers: { "content-type": "application/json", ...(cookie ? { cookie } : {}), ...headers }, body: JSON.stringify(body) });

async function read<T>(response: Promise<Response>, status = 200): Promise<T> {
  const answer = await response;
  const text = await answer.text();
  expect(answer.status, text).toBe(status);
  return JSON.parse(text) as T;
}

describe.each(testDatabases)("moving a page on $name", (kind) => {
  let origin: TestOrigin;
  let admin: string;
  let editor: string;
  let reader: string;
  const notices: DeletionNotice[] = [];

  const register = async (name: string) => {
    const response = await handleRegister(origin, post("/api/auth/register", { name, password: "correct horse battery" }));
    expect(response.status).toBe(201);
    return (response.headers.get("set-cookie") ?? "").split(";")[0]!;
  };
  /** Flushes what `doc` holds beyond `since` under `slug`, as an edge would; answers the origin's answer. */
  const flush = async (pages: { slug: string; doc: Y.Doc; since?: Uint8Array }[]): Promise<FlushAnswer> => {
    const batch: FlushBatch = {
      batchId: `test-${randomUUID()}`,
      pop: "us-east",
      edge: "us-east-a",
      pages: pages.map(({ slug, doc, since }) => ({
        slug,
        update: toBase64(Y.encodeStateAsUpdate(doc, since)),
        stateVector: toBase64(Y.encodeStateVector(doc)),
        editCount: 1,
        authors: ["Arya"],
      })),
    };
    return read<FlushAnswer>(handleFlush(origin, request("/api/internal/flush", { method: "POST", headers: origin.edgeHeaders, body: JSON.stringify(batch) })));
  };
  const createPage = async (slug: string, text: string) => {
    const doc = new Y.Doc();
    doc.getText("body").insert(0, text);
    await flush([{ slug, doc }]);
    return doc;
  };
  const move = (from: string, body: unknown, cookie = editor) => handleMovePage(origin, post(`/api/pages/${from}/move`, body, cookie), { slug: from });
  const text = async (slug: string) => (await read<{ text: string }>(handleGetPage(origin, request(`/api/pages/${slug}`), { slug }))).text;

  beforeAll(async () => {
    origin = await startTestOrigin(kind);
    admin = await register("Cersei"); // the first account is the admin
    editor = await register("Tyrion");
    reader = await register("Pod");
    await origin.db.prisma.user.updateMany({ where: { name: "Pod" }, data: { role: "reader" } });
    origin.deletionChanges.add((notice) => notices.push(notice));
  });
  afterAll(async () => {
    await origin?.close();
  });

  it("renames the page with its history; the old name redirects, stays a blue link, and the edges are told", async () => {
    const from = uniqueSlug("Dragonstone");
    const to = uniqueSlug("Dragonstone_castle");
    const linking = uniqueSlug("Blackwater");
    await createPage(from, "Seat of Stannis.");
    await createPage(linking, `Sail from [[${from}]].`);
    await refreshAllPages(origin.db.prisma);

    const moved = await read<{ move: Record<string, unknown> }>(move(from, { to, reason: "a better title" }));
    expect(moved.move).toMatchObject({ from, to, by: "Tyrion", reason: "a better title" });
    expect(notices.at(-1)).toEqual({ kind: "moved", slug: from, to });

    expect(await text(to)).toBe("Seat of Stannis.");
    const history = await read<{ revisions: unknown[] }>(handleGetHistory(origin, request(`/api/pages/${to}/history`), { slug: to }));
    expect(history.revisions.length).toBeGreaterThan(0);
    const old = await handleGetPage(origin, request(`/api/pages/${from}`), { slug: from });
    expect(old.status).toBe(301);
    expect(old.headers.get("location")).toBe(`/api/pages/${to}`);
    expect(await old.json()).toMatchObject({ error: "moved", to });
    expect(await readPageView(origin.db.prisma, from as Slug)).toMatchObject({ page: { slug: to }, redirectedFrom: from });
    // [[Old name]] stays blue and is not wanted.
    expect(await existingSlugs(origin.db.prisma, { slugs: [from as Slug] })).toEqual(new Set([from]));
    const wanted = await read<{ pages: { slug: string }[] }>(handleWantedPages(origin, request("/api/wanted-pages?limit=500")));
    expect(wanted.pages.map((page) => page.slug)).not.toContain(from);
    // Edges: the old name's state is the page's, flagged; so is their recheck.
    const state = pageStateSchema.parse(await read(handlePageState(origin, request(`/api/internal/pages/${from}/state`, { headers: origin.edgeHeaders }), { slug: from })));
    expect(state.movedTo).toBe(to);
    const asked = await read<{ deleted: unknown[] }>(handleInternalDeletedPages(origin, post("/api/internal/deleted-pages", { slugs: [from, to] }, undefined, origin.edgeHeaders)));
    expect(asked.deleted).toEqual([{ slug: from, reason: "", movedTo: to }]);
    const moves = await read<{ moves: { from: string; to: string }[] }>(handleListMoves(origin, request(`/api/pages/${to}/moves`), { slug: to }));
    expect(moves.moves).toEqual([expect.objectContaining({ from, to })]);
  });

  it("merges a flush sent under the old name after the move into the page, also beside a flush under the new name, answering each name", async () => {
    const from = uniqueSlug("Winterfell");
    const to = uniqueSlug("Winterfell_castle");
    const onOld = await createPage(from, "[a]");
    await read(move(from, { to }));
    // An edge still holding the old name flushes what it acknowledged meanwhile.
    const since = Y.encodeStateVector(onOld);
    onOld.getText("body").insert(3, "[b]");
    const answer = await flush([{ slug: from, doc: onOld, since }]);
    expect(answer.pages.map((page) => page.slug)).toEqual([from]);
    expect(await text(to)).toBe("[a][b]");
    // And one batch carrying both names (a replica holding both while its clients moved over).
    const onNew = new Y.Doc();
    Y.applyUpdate(onNew, Y.encodeStateAsUpdate(onOld));
    const oldSince = Y.encodeStateVector(onOld);
    const newSince = Y.encodeStateVector(onNew);
    onOld.getText("body").insert(6, "[c]");
    onNew.getText("body").insert(0, "[d]");
    const both = await flush([
      { slug: from, doc: onOld, since: oldSince },
      { slug: to, doc: onNew, since: newSince },
    ]);
    expect(both.pages.map((page) => page.slug)).toEqual([from, to]);
    const final = await text(to);
    for (const marker of ["[a]", "[b]", "[c]", "[d]"]) expect(final.split(marker).length - 1, final).toBe(1);
    // Each answer tells its sender what it lacks: the other name's edit.
    const missingForOld = new Y.Doc();
    Y.applyUpdate(missingForOld, Y.encodeStateAsUpdate(onOld));
    Y.applyUpdate(missingForOld, fromBase64(both.pages[0]!.missing));
    expect(missingForOld.getText("body").toString()).toBe(final);
    // No page was created under the old name.
    expect(await origin.db.prisma.page.count({ where: { slug: from } })).toBe(0);
  });

  it("moves back to an old name of the same page, and refuses clearly: taken names, another page's old name, readers, protection, deleted, unknown, the same name", async () => {
    const a = uniqueSlug("Harrenhal");
    const b = uniqueSlug("Harrenhal_ruin");
    await createPage(a, "Cursed.");
    await read(move(a, { to: b }));
    await read(move(b, { to: a, reason: "back" }));
    expect(await text(a)).toBe("Cursed.");
    expect((await handleGetPage(origin, request(`/api/pages/${b}`), { slug: b })).status).toBe(301);

    const other = uniqueSlug("Riverrun");
    await createPage(other, "Tully seat.");
    expect(await read(move(other, { to: a }), 409)).toMatchObject({ error: "conflict" });
    expect(await read(move(other, { to: b }), 409)).toMatchObject({ message: expect.stringContaining("old name of") });
    expect(await read(move(a, { to: uniqueSlug("Nope") }, reader), 403)).toMatchObject({ error: "forbidden" });
    await origin.db.prisma.page.update({ where: { slug: other }, data: { protection: "admin" } });
    expect(await read(move(other, { to: uniqueSlug("Nope") }), 403)).toMatchObject({ error: "forbidden" });
    expect((await move(other, { to: uniqueSlug("Riverrun_keep") }, admin)).status).toBe(200);
    expect(await read(move(uniqueSlug("Nowhere"), { to: uniqueSlug("Somewhere") }), 404)).toMatchObject({ error: "not_found" });
    expect(await read(move(a, { to: a }), 400)).toMatchObject({ error: "bad_request" });
    expect(await read(move(a, { to: "bad name" }), 400)).toMatchObject({ error: "bad_request" });
    expect(await read(move(b, { to: uniqueSlug("X") }), 301)).toMatchObject({ error: "moved", to: a });
    await origin.db.prisma.page.update({ where: { slug: a }, data: { deletedAt: new Date() } });
    expect(await read(move(a, { to: uniqueSlug("Y") }), 409)).toMatchObject({ message: expect.stringContaining("deleted") });
  });
});
