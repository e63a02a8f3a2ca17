import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningEdge } from "../../edge/edge";
import { CloseCode } from "../../protocol/close-codes";
import { deletedPageMessage } from "../../protocol/deletions";
import { MOVED_TO_A_LONG_NAME, movedPageMessage, movedToOf } from "../../protocol/moved-page";
import { type Cluster, startCluster } from "../support/cluster";
import { testDatabases } from "../support/databases";
import { originText } from "../support/origin-text";
import { registerAccount } from "../support/register";
import { markerProblems, markers, type StockClient, stockClient, until } from "../support/stock-client";

/**
 * What a stock y-websocket 3.x WebsocketProvider (default `shouldReconnect`,
 * no Weirwood extension) sees of a real edge when its page is deleted or
 * moved while it is open: one close, 4410 or 4411 (the latter naming the new
 * name in full), after which it stops for good rather than reconnect in a
 * loop; and a fresh one opening the old name is refused at open with the
 * same code and stops too. Nothing the edge held of its edits is lost:
 * stored before, or held unflushed when the delete or move lands, they end
 * up in the deleted page's stored state, or under the page's new name.
 */

/**
 * A stock provider's attempts to connect from now on, as its 'status' events
 * tell them (the first, made as the provider is built, comes before any
 * listener), and its terminal close ('closed').
 */
function watch(client: StockClient): { attempts: () => number; terminal: () => { code: number; reason: string } | undefined } {
  let attempts = 0;
  let terminal: { code: number; reason: string } | undefined;
  client.provider.on("status", ({ status }) => {
    if (status === "connecting") attempts++;
  });
  client.provider.on("closed", (event) => {
    terminal = event;
  });
  return { attempts: () => attempts, terminal: () => terminal };
}

// The stock provider's first retry after a synced connection closes comes
// 200 ms later, the next 400 ms after that: a provider that did not stop
// would be seen trying again within this.
const LOOP_WATCH_MS = 2_000;

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("a stock y-websocket provider on a page deleted or moved under it", () => {
  let cluster: Cluster;
  let adminCookie: string;
  let token: string;
  let edge: RunningEdge;
  const suffix = Math.random().toString(36).slice(2, 8);
  beforeAll(async () => {
    cluster = await startCluster({ database: testDatabases[0]!, broker: "memory", replicasPerPop: 1 });
    adminCookie = await registerAccount(cluster.originUrl, `Varys${suffix}`); // the first account: the admin
    token = await cluster.token(`Podrick${suffix}`);
    edge = cluster.edges[0]!;
  });
  afterAll(() => cluster?.stop());

  /**
   * Types `stored` and waits for the origin to hold it, then, the replicas'
   * flushes stopped, types `held` and waits for the edge to hold it: the
   * delete or move that follows lands before those are flushed (flushes()
   * starts them again).
   */
  async function typeStoredThenHeld(client: StockClient, slug: string, stored: string[], held: string[]): Promise<void> {
    await until("the provider to sync", () => client.connected, Boolean);
    client.type(stored);
    await until("the origin to store the first edits", async () => markerProblems((await originText(cluster.origin, slug)) ?? "", stored).missing, (missing) => missing.length === 0);
    for (const each of cluster.edges) each.replica.flusher.stop();
    flushesStopped = true;
    client.type(held);
    const heldByEdge = () => edge.replica.pages.get(slug)?.doc.getText("body").toString() ?? "";
    await until("the edge to hold the late edits", () => markerProblems(heldByEdge(), held).missing, (missing) => missing.length === 0);
  }

  let flushesStopped = false;
  function flushes(): void {
    // start() twice would leave an interval no stop() clears.
    if (!flushesStopped) return;
    flushesStopped = false;
    for (const each of cluster.edges) each.replica.flusher.start();
  }

  /** Opens `slug` with a fresh stock provider and answers what it saw once it stopped: its closes, and its attempts after the first. */
  async function openGone(slug: string): Promise<{ closes: { code: number; reason: string }[]; retries: number }> {
    const client = stockClient(edge.url, slug, token);
    const watched = watch(client);
    try {
      await until(`a fresh provider on ${slug} to stop`, () => watched.terminal(), (terminal) => terminal !== undefined, 15_000);
      await settle(LOOP_WATCH_MS);
      return { closes: [...client.closes], retries: watched.attempts() };
    } finally {
      client.destroy();
    }
  }

  it("deleted: the provider is closed once with 4410, stops, and every edit the edge held is in the deleted page's stored state", async () => {
    const slug = `Harrenhal_${suffix}`;
    const client = stockClient(edge.url, slug, token);
    const watched = watch(client);
    try {
      const stored = markers("stored", 5);
      const held = markers("held", 5);
      await typeStoredThenHeld(client, slug, stored, held);
      const attemptsBefore = watched.attempts();

      const deleted = await fetch(`${cluster.originUrl}/api/pages/${slug}/delete`, {
        method: "POST",
        headers: { "content-type": "application/json", cookie: adminCookie },
        body: JSON.stringify({ reason: "burned" }),
      });
      expect(deleted.status, await deleted.clone().text()).toBe(200);

      await until("the provider to hear the delete", () => client.closes.length, (n) => n > 0, 15_000);
      await settle(LOOP_WATCH_MS);
      expect(client.closes).toEqual([{ code: CloseCode.pageDeleted, reason: deletedPageMessage("burned") }]);
      expect(watched.terminal()).toEqual({ code: CloseCode.pageDeleted, reason: deletedPageMessage("burned") });
      expect(watched.attempts(), "connection attempts after the delete").toBe(attemptsBefore);
      expect(client.provider.shouldConnect).toBe(false);

      // The held edits reach the origin after the delete, and are stored in the deleted page's history.
      expect(markerProblems((await originText(cluster.origin, slug)) ?? "", held).missing).toEqual(held);
      flushes();
      const expected = [...stored, ...held];
      const text = await until(
        "the deleted page's stored state to hold every edit",
        async () => (await originText(cluster.origin, slug)) ?? "",
        (text) => markerProblems(text, expected).missing.length === 0,
        15_000,
      );
      expect(markerProblems(text, expected)).toEqual({ missing: [], repeated: [] });
      expect((await fetch(`${cluster.originUrl}/api/pages/${slug}`)).status).toBe(410);

      expect(await openGone(slug)).toEqual({ closes: [{ code: CloseCode.pageDeleted, reason: deletedPageMessage("burned") }], retries: 0 });
    } finally {
      client.destroy();
      flushes();
    }
  });

  it.each([
    { what: "a name the close reason holds", tail: "_of_the_Kingsroad", named: true },
    // 200 bytes: a slug may hold 255, a close reason 123 with "this page was moved to " in front.
    // Cut, it would name a page that does not exist (and the wiki's editor would follow it there).
    { what: "a name too long for a close reason", tail: `_${"Ironwood".repeat(30)}`, named: false },
  ])("moved to $what: the provider is closed once with 4411, which names the new name or none, stops, and every edit is under the new name", async ({ tail, named }) => {
    const from = `Inn_at_the_Crossroads_${suffix}_${named ? "a" : "b"}`;
    const to = `${from}${tail}`.slice(0, 200);
    const reason = named ? movedPageMessage(to) : MOVED_TO_A_LONG_NAME;
    const client = stockClient(edge.url, from, token);
    const watched = watch(client);
    try {
      const stored = markers("stored", 5);
      const held = markers("held", 5);
      await typeStoredThenHeld(client, from, stored, held);
      const attemptsBefore = watched.attempts();

      const moved = await fetch(`${cluster.originUrl}/api/pages/${from}/move`, {
        method: "POST",
        headers: { "content-type": "application/json", cookie: adminCookie },
        body: JSON.stringify({ to, reason: "its full name" }),
      });
      expect(moved.status, await moved.clone().text()).toBe(200);

      await until("the provider to hear the move", () => client.closes.length, (n) => n > 0, 15_000);
      await settle(LOOP_WATCH_MS);
      expect(client.closes).toEqual([{ code: CloseCode.pageMoved, reason }]);
      expect(movedToOf(client.closes[0]!.reason)).toBe(named ? to : undefined);
      expect(watched.terminal()?.code).toBe(CloseCode.pageMoved);
      expect(watched.attempts(), "connection attempts after the move").toBe(attemptsBefore);
      expect(client.provider.shouldConnect).toBe(false);

      // The held edits reach the origin after the move, flushed under the old name.
      expect(markerProblems((await originText(cluster.origin, to)) ?? "", held).missing).toEqual(held);
      flushes();
      const expected = [...stored, ...held];
      const text = await until(
        "the page under its new name to hold every edit",
        async () => (await originText(cluster.origin, to)) ?? "",
        (text) => markerProblems(text, expected).missing.length === 0,
        15_000,
      );
      expect(markerProblems(text, expected)).toEqual({ missing: [], repeated: [] });
      // Where a reason that names no page sends the client for the new name.
      const oldName = await fetch(`${cluster.originUrl}/api/pages/${from}`, { redirect: "manual" });
      expect({ status: oldName.status, to: ((await oldName.json()) as { to?: string }).to }).toEqual({ status: 301, to });

      expect(await openGone(from)).toEqual({ closes: [{ code: CloseCode.pageMoved, reason }], retries: 0 });
    } finally {
      client.destroy();
      flushes();
    }
  });
});
