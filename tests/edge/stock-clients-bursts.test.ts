import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { originText as committedText } from "../support/origin-text";
import type { RunningEdge } from "../../edge/edge";
import { CloseCode } from "../../protocol/close-codes";
import { type Cluster, startCluster } from "../support/cluster";
import { testDatabases } from "../support/databases";
import { markerProblems, markers, type StockClient, stockClient, until } from "../support/stock-client";

const slugOf = (name: string) => `${name}_${Math.random().toString(36).slice(2, 8)}`;

/**
 * Issue 17: two new accounts each sent 150 inserts in a burst through stock
 * y-websocket providers; the edge closed them with 4429, which y-websocket
 * 3.x treats as permanent, and 120 inserts never arrived. Now a burst over
 * the edit rate is slowed down (the socket is not read until the bucket
 * refills), and a flood that goes on is closed with a code stock clients
 * reconnect on. The rate limit is on, at its defaults for new accounts.
 */
describe("stock y-websocket clients bursting over the edit rate on two PoPs", () => {
  let cluster: Cluster;
  let floodCloser: RunningEdge;
  beforeAll(async () => {
    cluster = await startCluster({ database: testDatabases[0]!, broker: "memory", replicasPerPop: 1, flushMs: 300 });
    // A replica that gives up on a flood after a second, so that the close path runs.
    floodCloser = await cluster.addReplica(cluster.pops[0]!, { EDGE_FLOOD_CLOSE_MS: "1000" });
    // A wiki's first account is its admin, with an admin's rate: take it, so that every test's users are new editors.
    await cluster.token("Aegon");
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  async function converged(slug: string, clients: StockClient[], expected: string[]): Promise<void> {
    for (const [i, client] of clients.entries()) {
      await until(`client ${i} to hold all ${expected.length} inserts`, () => markerProblems(client.text(), expected), (p) => p.missing.length === 0);
    }
    const originText = await until(
      `the origin to hold all ${expected.length} inserts`,
      async () => (await committedText(cluster.origin, slug)) ?? "",
      (text) => markerProblems(text, expected).missing.length === 0,
    );
    expect(markerProblems(originText, expected)).toEqual({ missing: [], repeated: [] });
    for (const client of clients) {
      expect(markerProblems(client.text(), expected)).toEqual({ missing: [], repeated: [] });
      expect(client.text()).toBe(originText);
    }
    for (const [i, client] of clients.entries()) await until(`client ${i} to be connected`, () => client.connected, Boolean);
  }

  it("a burst of 200 inserts from each of two new accounts, one per PoP, all reach the other client and the origin, with no close", async () => {
    const slug = slugOf("Kings_Landing");
    const [us, eu] = [cluster.edgesOf(cluster.pops[0]!)[0]!, cluster.edgesOf(cluster.pops[1]!)[0]!];
    const ann = stockClient(us.url, slug, await cluster.token(`Ann_${slug}`));
    const bob = stockClient(eu.url, slug, await cluster.token(`Bob_${slug}`));
    try {
      await until("both providers to sync", () => ann.connected && bob.connected, Boolean);
      const typed = [...markers("Ann", 200), ...markers("Bob", 200)];
      ann.type(typed.slice(0, 200));
      bob.type(typed.slice(200));
      await converged(slug, [ann, bob], typed);
      // Slowed down, not closed: 200 is well past a new account's burst of 60.
      expect([...ann.closes, ...bob.closes]).toEqual([]);
    } finally {
      ann.destroy();
      bob.destroy();
    }
  });

  it("a flood that goes on past EDGE_FLOOD_CLOSE_MS is closed with a transient code, and the stock client comes back with everything", async () => {
    const slug = slugOf("Flea_Bottom");
    const eu = cluster.edgesOf(cluster.pops[1]!)[0]!;
    const flooder = stockClient(floodCloser.url, slug, await cluster.token(`Cat_${slug}`));
    const reader = stockClient(eu.url, slug, await cluster.token(`Dan_${slug}`));
    try {
      await until("both providers to sync", () => flooder.connected && reader.connected, Boolean);
      const typed = markers("Cat", 400);
      flooder.type(typed);
      await converged(slug, [flooder, reader], typed);
      expect(flooder.closes.map((close) => close.code)).toContain(CloseCode.rateLimited);
      expect(reader.closes).toEqual([]);
    } finally {
      flooder.destroy();
      reader.destroy();
    }
  });
});
