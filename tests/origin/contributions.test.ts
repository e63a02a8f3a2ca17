import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serveOrigin } from "../../origin/http/node-adapter";
import { refreshAllPages } from "../../origin/text-refresh";
import { testDatabases } from "../support/databases";
import { FlushingPage } from "../support/flushing-page";
import { startTestOrigin, type TestOrigin } from "../support/origin";
import { registerAccount } from "../support/register";

interface Contributions {
  user: string;
  changes: { slug: string; revision: number; authors: string[]; editCount: number }[];
  next: string | null;
}

/** Issue 22: every revision a user took part in, newest first, as a public read. */
describe.each(testDatabases)("a user's contributions ($name)", (database) => {
  let origin: TestOrigin;
  let served: Awaited<ReturnType<typeof serveOrigin>>;
  let target: { url: string; serviceSecret: string };
  const winterfell = new FlushingPage(`Winterfell_${randomUUID().slice(0, 8)}`);
  const riverrun = new FlushingPage(`Riverrun_${randomUUID().slice(0, 8)}`);

  beforeAll(async () => {
    origin = await startTestOrigin(database, { ORIGIN_RECENT_CHANGES_MAX_AGE_S: "3" });
    // The test refreshes itself: each write below is its own refresh, so the revisions are known.
    await origin.textRefresher.stop();
    served = await serveOrigin(origin);
    target = { url: served.url, serviceSecret: origin.serviceSecret };
    await registerAccount(served.url, "Catelyn Stark");
    await registerAccount(served.url, "Edmure");
    // A newcomer to a revision of few authors starts one of their own (origin/revision-grouping.ts).
    const writes: [FlushingPage, string, string[]][] = [
      [winterfell, "The North remembers.", ["Catelyn Stark"]], // Winterfell 1
      [riverrun, "Family, duty, honour.", ["Edmure"]], // Riverrun 1
      [riverrun, "Family, duty, honour. Fish.", ["Catelyn Stark"]], // Riverrun 2
      [winterfell, "The North remembers. Snow.", ["Edmure"]], // Winterfell 2
      [winterfell, "The North remembers. Snow falls.", ["Davos", "Catelyn Stark"]], // Winterfell 3
    ];
    for (const [page, text, authors] of writes) {
      await page.write(target, text, authors);
      await refreshAllPages(origin.db.prisma);
    }
  });

  afterAll(async () => {
    await served?.close();
    await origin?.close();
  });

  async function contributions(path: string): Promise<Contributions> {
    const response = await fetch(`${served.url}${path}`);
    expect(response.status, await response.clone().text()).toBe(200);
    return (await response.json()) as Contributions;
  }

  const revisionsOf = (answer: Contributions) => answer.changes.map((change) => `${change.slug}#${change.revision}`);

  it("lists exactly the revisions naming the user, newest first", async () => {
    const catelyn = await contributions(`/api/users/${encodeURIComponent("Catelyn Stark")}/contributions`);
    expect(catelyn.user).toBe("Catelyn Stark");
    expect(revisionsOf(catelyn)).toEqual([`${winterfell.slug}#3`, `${riverrun.slug}#2`, `${winterfell.slug}#1`]);
    expect(catelyn.changes[0]).toMatchObject({ authors: ["Davos", "Catelyn Stark"], editCount: 1 });
    expect(catelyn.next).toBeNull();
    const edmure = await contributions("/api/users/Edmure/contributions");
    expect(revisionsOf(edmure)).toEqual([`${winterfell.slug}#2`, `${riverrun.slug}#1`]);
  });

  it("finds the account however its name is cased", async () => {
    const answer = await contributions(`/api/users/${encodeURIComponent("catelyn STARK")}/contributions`);
    expect(answer.user).toBe("Catelyn Stark");
    expect(answer.changes).toHaveLength(3);
  });

  it("pages through with limit and the cursor it hands out", async () => {
    const path = `/api/users/${encodeURIComponent("Catelyn Stark")}/contributions`;
    const first = await contributions(`${path}?limit=2`);
    expect(revisionsOf(first)).toEqual([`${winterfell.slug}#3`, `${riverrun.slug}#2`]);
    expect(first.next).toEqual(expect.any(String));
    const second = await contributions(`${path}?limit=2&before=${encodeURIComponent(first.next!)}`);
    expect(revisionsOf(second)).toEqual([`${winterfell.slug}#1`]);
    expect(second.next).toBeNull();
    const bad = await fetch(`${served.url}${path}?before=not-a-cursor`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toMatch(/^before: /u);
  });

  it("answers 404 for a name without an account", async () => {
    // Davos is named by a revision (a test's token) but has no account.
    const response = await fetch(`${served.url}/api/users/Davos/contributions`);
    expect(response.status).toBe(404);
  });

  it("is public for shared caches, with an ETag that answers 304", async () => {
    const path = "/api/users/Edmure/contributions";
    const first = await fetch(`${served.url}${path}`);
    expect(first.headers.get("cache-control")).toBe("public, max-age=0, s-maxage=3, stale-while-revalidate=3");
    const etag = first.headers.get("etag");
    expect(etag).toMatch(/^"[^"]+"$/u);
    const again = await fetch(`${served.url}${path}`, { headers: { "if-none-match": etag! } });
    expect(again.status).toBe(304);
  });
});
