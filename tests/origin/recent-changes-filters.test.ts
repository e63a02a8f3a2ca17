import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serveOrigin } from "../../origin/http/node-adapter";
import { refreshAllPages } from "../../origin/text-refresh";
import { testDatabases } from "../support/databases";
import { FlushingPage } from "../support/flushing-page";
import { startTestOrigin, type TestOrigin } from "../support/origin";
import { registerAccount } from "../support/register";

interface Changes {
  changes: { slug: string; revision: number; authors: string[] }[];
}

/** Issue 22: recent changes filtered by page-name prefix, by user, without admins' or bots' own changes. */
describe.each(testDatabases)("recent changes' filters ($name)", (database) => {
  let origin: TestOrigin;
  let served: Awaited<ReturnType<typeof serveOrigin>>;
  let target: { url: string; serviceSecret: string };
  let admin: string;
  let editor: string;
  const house = `Casterly_${randomUUID().slice(0, 8)}`;
  const rock = new FlushingPage(`${house}_Rock`);
  const gate = new FlushingPage(`${house}_Gate`);
  const winterfell = new FlushingPage(`Winterfell_${randomUUID().slice(0, 8)}`);

  async function write(page: FlushingPage, text: string, authors: string[]): Promise<void> {
    await page.write(target, text, authors);
    await refreshAllPages(origin.db.prisma);
  }

  beforeAll(async () => {
    origin = await startTestOrigin(database, { ORIGIN_RECENT_CHANGES_MAX_AGE_S: "3" });
    // The test refreshes itself: each write below is its own refresh, so the revisions are known.
    await origin.textRefresher.stop();
    served = await serveOrigin(origin);
    target = { url: served.url, serviceSecret: origin.serviceSecret };
    admin = await registerAccount(served.url, "Tywin"); // the first account: the admin
    editor = await registerAccount(served.url, "Sansa Stark");
    await registerAccount(served.url, "Qyburn");
    expect((await markBot("qyburn", true, admin)).status).toBe(200);
    // A newcomer to a revision of few authors starts one of their own (origin/revision-grouping.ts).
    await write(rock, "Gold.", ["Tywin"]); // Rock 1
    await write(gate, "A gate.", ["Sansa Stark"]); // Gate 1
    await write(winterfell, "Snow.", ["Sansa Stark"]); // Winterfell 1
    await write(rock, "Gold. Debts.", ["Sansa Stark", "Tywin"]); // Rock 2
    await write(gate, "A gate. Fish.", ["Davos"]); // Gate 2: an author without an account
    await write(winterfell, "Snow. Lions.", ["Tywin"]); // Winterfell 2
    await write(gate, "A gate. Fish. Measured.", ["Qyburn"]); // Gate 3: a bot alone
    await write(winterfell, "Snow. Lions. Measured.", ["Qyburn", "Tywin"]); // Winterfell 3: a bot and an admin
  });

  function markBot(name: string, bot: boolean, cookie: string): Promise<Response> {
    return fetch(`${served.url}/api/users/${encodeURIComponent(name)}/bot`, {
      method: "PUT",
      headers: { "content-type": "application/json", cookie },
      body: JSON.stringify({ bot }),
    });
  }

  afterAll(async () => {
    await served?.close();
    await origin?.close();
  });

  async function changes(query: string): Promise<string[]> {
    const response = await fetch(`${served.url}/api/recent-changes${query}`);
    expect(response.status, await response.clone().text()).toBe(200);
    return ((await response.json()) as Changes).changes.map((change) => `${change.slug}#${change.revision}`);
  }

  it("lists every change without a filter, newest first", async () => {
    expect(await changes("")).toEqual([
      `${winterfell.slug}#3`,
      `${gate.slug}#3`,
      `${winterfell.slug}#2`,
      `${gate.slug}#2`,
      `${rock.slug}#2`,
      `${winterfell.slug}#1`,
      `${gate.slug}#1`,
      `${rock.slug}#1`,
    ]);
  });

  it("keeps the pages whose name starts with a prefix typed as a title", async () => {
    const typed = encodeURIComponent(`${house.toLowerCase().replace("_", " ")} `);
    expect(await changes(`?prefix=${typed}`)).toEqual([`${gate.slug}#3`, `${gate.slug}#2`, `${rock.slug}#2`, `${gate.slug}#1`, `${rock.slug}#1`]);
    expect(await changes(`?prefix=${encodeURIComponent(`${house}_R`)}`)).toEqual([`${rock.slug}#2`, `${rock.slug}#1`]);
  });

  it("keeps the changes a user took part in, however the name is cased", async () => {
    expect(await changes("?user=tywin")).toEqual([`${winterfell.slug}#3`, `${winterfell.slug}#2`, `${rock.slug}#2`, `${rock.slug}#1`]);
    // A name revisions carry without an account is matched as written.
    expect(await changes("?user=Davos")).toEqual([`${gate.slug}#2`]);
  });

  it("hides the changes admins made alone, not those an editor took part in", async () => {
    expect(await changes("?hideadmins=1")).toEqual([
      `${winterfell.slug}#3`,
      `${gate.slug}#3`,
      `${gate.slug}#2`,
      `${rock.slug}#2`,
      `${winterfell.slug}#1`,
      `${gate.slug}#1`,
    ]);
    expect(await changes("?hideadmins=0")).toHaveLength(8);
  });

  it("hides the changes bots made alone, and with both, those admins and bots made between them", async () => {
    expect(await changes("?hidebots=1")).toEqual([
      `${winterfell.slug}#3`,
      `${winterfell.slug}#2`,
      `${gate.slug}#2`,
      `${rock.slug}#2`,
      `${winterfell.slug}#1`,
      `${gate.slug}#1`,
      `${rock.slug}#1`,
    ]);
    expect(await changes("?hidebots=1&hideadmins=1")).toEqual([`${gate.slug}#2`, `${rock.slug}#2`, `${winterfell.slug}#1`, `${gate.slug}#1`]);
  });

  it("lets only an admin mark an account as a bot", async () => {
    const refused = await markBot("Sansa Stark", true, editor);
    expect(refused.status).toBe(403);
    expect((await markBot("Nobody", true, admin)).status).toBe(404);
    const marked = await markBot("SANSA STARK", true, admin);
    expect(await marked.json()).toEqual({ name: "Sansa Stark", bot: true });
    expect(await markBot("Sansa Stark", false, admin).then((response) => response.json())).toEqual({ name: "Sansa Stark", bot: false });
  });

  it("combines its filters, and takes a form's empty fields as no filter", async () => {
    expect(await changes(`?prefix=${house}&user=Tywin&hideadmins=1`)).toEqual([`${rock.slug}#2`]);
    expect(await changes("?prefix=&user=%20&limit=2")).toEqual([`${winterfell.slug}#3`, `${gate.slug}#3`]);
  });

  it("answers 400 naming the parameter a bad filter is in", async () => {
    for (const [query, parameter] of [
      ["?prefix=a%5Bb", "prefix"],
      ["?hideadmins=maybe", "hideadmins"],
    ] as const) {
      const response = await fetch(`${served.url}/api/recent-changes${query}`);
      expect(response.status).toBe(400);
      expect(((await response.json()) as { message: string }).message).toMatch(new RegExp(`^${parameter}: `, "u"));
    }
  });

  it("answers 304 to a poller's ETag until a change it keeps arrives", async () => {
    const path = `${served.url}/api/recent-changes?prefix=${house}&hideadmins=1`;
    const first = await fetch(path);
    const etag = first.headers.get("etag")!;
    expect(etag).toMatch(/^"[^"]+"$/u);
    expect(etag).not.toBe((await fetch(`${served.url}/api/recent-changes`)).headers.get("etag"));
    expect((await fetch(path, { headers: { "if-none-match": etag } })).status).toBe(304);
    // A change the filter hides leaves the list, and its tag, as they were.
    await write(new FlushingPage(`${house}_Vault`), "Gold.", ["Tywin"]); // Vault 1, by the admin alone
    expect((await fetch(path, { headers: { "if-none-match": etag } })).status).toBe(304);
    await write(gate, "A gate. Fish. Wolves.", ["Sansa Stark"]); // Gate 4
    const after = await fetch(path, { headers: { "if-none-match": etag } });
    expect(after.status).toBe(200);
    expect(((await after.json()) as Changes).changes[0]).toMatchObject({ slug: gate.slug, revision: 4 });
  });
});
