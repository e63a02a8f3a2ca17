import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serveOrigin } from "../../origin/http/node-adapter";
import { refreshAllPages } from "../../origin/text-refresh";
import { testDatabases } from "../support/databases";
import { FlushingPage } from "../support/flushing-page";
import { startTestOrigin, type TestOrigin } from "../support/origin";
import { registerAccount } from "../support/register";

interface Watchlist {
  changes: { slug: string; revision: number; authors: string[] }[];
  next: string | null;
}

/** Issue 22: a signed-in user's watchlist, kept by no cache. */
describe.each(testDatabases)("the watchlist ($name)", (database) => {
  let origin: TestOrigin;
  let served: Awaited<ReturnType<typeof serveOrigin>>;
  let target: { url: string; serviceSecret: string };
  let brienne: string;
  let jaime: string;

  beforeAll(async () => {
    origin = await startTestOrigin(database);
    // Each test refreshes itself: revisions (and the watches they bring) are written when it says.
    await origin.textRefresher.stop();
    served = await serveOrigin(origin);
    target = { url: served.url, serviceSecret: origin.serviceSecret };
    brienne = await registerAccount(served.url, "Brienne");
    jaime = await registerAccount(served.url, "Jaime");
  });

  afterAll(async () => {
    await served?.close();
    await origin?.close();
  });

  async function edit(page: FlushingPage, text: string, authors: string[]): Promise<void> {
    await page.write(target, text, authors);
    await refreshAllPages(origin.db.prisma);
  }

  function call(method: string, path: string, headers: Record<string, string> = {}): Promise<Response> {
    const body = method === "PUT" || method === "DELETE" ? "{}" : undefined;
    return fetch(`${served.url}${path}`, { method, headers: { ...(body ? { "content-type": "application/json" } : {}), ...headers }, body });
  }

  async function watchlist(cookie: string): Promise<string[]> {
    const response = await call("GET", "/api/watchlist", { cookie });
    expect(response.status, await response.clone().text()).toBe(200);
    expect(response.headers.get("cache-control")).toBe("private, no-store");
    expect(response.headers.get("etag")).toBeNull();
    return ((await response.json()) as Watchlist).changes.map((change) => `${change.slug}#${change.revision}`);
  }

  async function watching(cookie: string, page: FlushingPage): Promise<boolean> {
    const response = await call("GET", `/api/watchlist/${page.slug}`, { cookie });
    expect(response.status, await response.clone().text()).toBe(200);
    expect(response.headers.get("cache-control")).toBe("private, no-store");
    return ((await response.json()) as { watching: boolean }).watching;
  }

  it("an author watches the pages they edit, and the watchlist lists exactly their changes, newest first", async () => {
    const tarth = new FlushingPage(`Tarth_${randomUUID().slice(0, 8)}`);
    const harrenhal = new FlushingPage(`Harrenhal_${randomUUID().slice(0, 8)}`);
    await edit(tarth, "The Sapphire Isle.", ["Brienne"]); // Tarth 1
    await edit(harrenhal, "A cursed castle.", ["Jaime"]); // Harrenhal 1: Brienne took no part
    await edit(tarth, "The Sapphire Isle, blue waters.", ["Davos"]); // Tarth 2: by someone else, still her page
    expect(await watching(brienne, tarth)).toBe(true);
    expect(await watching(brienne, harrenhal)).toBe(false);
    expect(await watchlist(brienne)).toEqual([`${tarth.slug}#2`, `${tarth.slug}#1`]);
    expect(await watchlist(jaime)).toEqual([`${harrenhal.slug}#1`]);
  });

  it("watches and unwatches a page", async () => {
    const pyke = new FlushingPage(`Pyke_${randomUUID().slice(0, 8)}`);
    await edit(pyke, "What is dead may never die.", ["Davos"]);
    expect(await watching(jaime, pyke)).toBe(false);
    const watch = await call("PUT", `/api/watchlist/${pyke.slug}`, { cookie: jaime });
    expect(watch.status, await watch.clone().text()).toBe(200);
    expect(watch.headers.get("cache-control")).toBe("private, no-store");
    expect(await watch.json()).toEqual({ slug: pyke.slug, watching: true });
    // Watching twice is watching.
    expect((await call("PUT", `/api/watchlist/${pyke.slug}`, { cookie: jaime })).status).toBe(200);
    expect(await watching(jaime, pyke)).toBe(true);
    expect((await watchlist(jaime))[0]).toBe(`${pyke.slug}#1`);
    const unwatch = await call("DELETE", `/api/watchlist/${pyke.slug}`, { cookie: jaime });
    expect(await unwatch.json()).toEqual({ slug: pyke.slug, watching: false });
    expect(await watching(jaime, pyke)).toBe(false);
    expect(await watchlist(jaime)).not.toContain(`${pyke.slug}#1`);
  });

  it("an author who unwatched a page watches it again when a new revision names them", async () => {
    const pinkmaiden = new FlushingPage(`Pinkmaiden_${randomUUID().slice(0, 8)}`);
    await edit(pinkmaiden, "Seat of House Piper.", ["Jaime"]);
    expect((await call("DELETE", `/api/watchlist/${pinkmaiden.slug}`, { cookie: jaime })).status).toBe(200);
    await edit(pinkmaiden, "Seat of House Piper, in the Riverlands.", ["Davos"]); // revision 2: not Jaime's
    expect(await watching(jaime, pinkmaiden)).toBe(false);
    await edit(pinkmaiden, "Seat of House Piper, in the Riverlands, by the Red Fork.", ["Jaime"]); // revision 3 names him
    expect(await watching(jaime, pinkmaiden)).toBe(true);
  });

  it("answers 404 for a page that does not exist", async () => {
    const response = await call("PUT", `/api/watchlist/Nowhere_${randomUUID().slice(0, 8)}`, { cookie: jaime });
    expect(response.status).toBe(404);
  });

  it("answers 401 without a session", async () => {
    const tarth = new FlushingPage(`Evenfall_${randomUUID().slice(0, 8)}`);
    await edit(tarth, "Evenfall Hall.", ["Davos"]);
    expect((await call("GET", "/api/watchlist")).status).toBe(401);
    expect((await call("GET", `/api/watchlist/${tarth.slug}`)).status).toBe(401);
    expect((await call("PUT", `/api/watchlist/${tarth.slug}`)).status).toBe(401);
    expect((await call("DELETE", `/api/watchlist/${tarth.slug}`)).status).toBe(401);
  });

  it("refuses a cross-site or non-JSON change, and watches nothing", async () => {
    const page = new FlushingPage(`Oldtown_${randomUUID().slice(0, 8)}`);
    await edit(page, "The Citadel.", ["Davos"]);
    const crossSite = await call("PUT", `/api/watchlist/${page.slug}`, { cookie: brienne, origin: "https://evil.example" });
    expect(crossSite.status).toBe(403);
    const form = await fetch(`${served.url}/api/watchlist/${page.slug}`, {
      method: "PUT",
      headers: { cookie: brienne, "content-type": "text/plain" },
      body: "{}",
    });
    expect(form.status).toBe(415);
    expect(await watching(brienne, page)).toBe(false);
    expect((await call("PUT", `/api/watchlist/${page.slug}`, { cookie: brienne, origin: served.url })).status).toBe(200);
    expect(await watching(brienne, page)).toBe(true);
    const crossSiteUnwatch = await call("DELETE", `/api/watchlist/${page.slug}`, { cookie: brienne, origin: "https://evil.example" });
    expect(crossSiteUnwatch.status).toBe(403);
    expect(await watching(brienne, page)).toBe(true);
  });
});
