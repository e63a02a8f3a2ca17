import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serveOrigin } from "../../origin/http/node-adapter";
import { refreshAllPages } from "../../origin/text-refresh";
import { testDatabases } from "../support/databases";
import { FlushingPage } from "../support/flushing-page";
import { startTestOrigin, type TestOrigin } from "../support/origin";

/**
 * Issue 21: the read API's answers are the same for everyone, so shared
 * caches may keep them and revalidate them by ETag; search, whose queries
 * are the readers' own words, is kept by none.
 */
describe.each(testDatabases)("the read API for shared caches ($name)", (database) => {
  let origin: TestOrigin;
  let served: Awaited<ReturnType<typeof serveOrigin>>;
  let target: { url: string; serviceSecret: string };
  let page: FlushingPage;
  const word = `dragonglass${randomUUID().slice(0, 6).replace(/[^a-z]/gu, "")}`;

  beforeAll(async () => {
    origin = await startTestOrigin(database, { ORIGIN_PAGE_MAX_AGE_S: "7", ORIGIN_PAGE_STALE_S: "70", ORIGIN_RECENT_CHANGES_MAX_AGE_S: "3" });
    // Each test refreshes the text itself: no refresh may change an answer between two reads.
    await origin.textRefresher.stop();
    served = await serveOrigin(origin);
    target = { url: served.url, serviceSecret: origin.serviceSecret };
    page = new FlushingPage(`Dragonstone_${randomUUID().slice(0, 8)}`);
    await page.write(target, `Made of ${word}.`);
    await refreshAllPages(origin.db.prisma);
  });

  afterAll(async () => {
    await served?.close();
    await origin?.close();
  });

  async function revalidates(path: string, cacheControl: string): Promise<string> {
    const first = await fetch(`${served.url}${path}`);
    expect(first.status, await first.clone().text()).toBe(200);
    expect(first.headers.get("cache-control")).toBe(cacheControl);
    const etag = first.headers.get("etag");
    expect(etag).toMatch(/^"[^"]+"$/u);
    const again = await fetch(`${served.url}${path}`, { headers: { "if-none-match": etag! } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe("");
    expect(again.headers.get("etag")).toBe(etag);
    expect(again.headers.get("cache-control")).toBe(cacheControl);
    return etag!;
  }

  it("a page, its history, a revision and its backlinks are public for s-maxage, and answer 304 to their ETag", async () => {
    const pageBound = "public, max-age=0, s-maxage=7, stale-while-revalidate=70";
    for (const path of [`/api/pages/${page.slug}`, `/api/pages/${page.slug}/history`, `/api/pages/${page.slug}/revisions/1`, `/api/pages/${page.slug}/backlinks`]) {
      await revalidates(path, pageBound);
    }
  });

  it("recent changes and wanted pages are public for the shorter bound", async () => {
    const wikiBound = "public, max-age=0, s-maxage=3, stale-while-revalidate=3";
    await revalidates("/api/recent-changes", wikiBound);
    await revalidates("/api/wanted-pages", wikiBound);
  });

  it("a page's ETag changes with an edit, and the old one gets the new page", async () => {
    const before = await fetch(`${served.url}/api/pages/${page.slug}`);
    const oldTag = before.headers.get("etag")!;
    const oldHistoryTag = (await fetch(`${served.url}/api/pages/${page.slug}/history`)).headers.get("etag")!;
    await page.write(target, `Made of ${word}, and fire.`);
    const after = await fetch(`${served.url}/api/pages/${page.slug}`, { headers: { "if-none-match": oldTag } });
    expect(after.status).toBe(200);
    expect(((await after.json()) as { text: string }).text).toContain("and fire");
    expect(after.headers.get("etag")).not.toBe(oldTag);
    // History follows the text refresh (origin/text-refresh.ts), and its tag with it.
    await refreshAllPages(origin.db.prisma);
    const history = await fetch(`${served.url}/api/pages/${page.slug}/history`, { headers: { "if-none-match": oldHistoryTag } });
    expect(history.status).toBe(200);
    expect(history.headers.get("etag")).not.toBe(oldHistoryTag);
  });

  it("search is kept by no cache and has no ETag", async () => {
    const response = await fetch(`${served.url}/api/search?q=${word}`);
    expect(response.status).toBe(200);
    expect(((await response.json()) as { results: { slug: string }[] }).results.map((result) => result.slug)).toContain(page.slug);
    expect(response.headers.get("cache-control")).toBe("private, no-store");
    expect(response.headers.get("etag")).toBeNull();
  });

  it("a public answer is the same whoever asks, with no cookie set", async () => {
    const register = await fetch(`${served.url}/api/auth/register`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: `Daenerys${randomUUID().slice(0, 6)}`, password: "fire cannot kill a dragon" }),
    });
    const cookie = register.headers.getSetCookie()[0]!.split(";")[0]!;
    const anonymous = await fetch(`${served.url}/api/pages/${page.slug}`);
    const signedIn = await fetch(`${served.url}/api/pages/${page.slug}`, { headers: { cookie } });
    expect(anonymous.headers.get("cache-control")).toMatch(/^public\b/u);
    expect(signedIn.headers.get("cache-control")).toBe(anonymous.headers.get("cache-control"));
    expect(signedIn.headers.get("etag")).toBe(anonymous.headers.get("etag"));
    expect(await signedIn.text()).toBe(await anonymous.text());
    expect(signedIn.headers.get("set-cookie")).toBeNull();
  });
});
