import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { originText as committedText } from "../support/origin-text";
import { CloseCode } from "../../protocol/close-codes";
import { type Cluster, startCluster } from "../support/cluster";
import { testDatabases } from "../support/databases";
import { markerProblems, type StockClient, stockClient, until } from "../support/stock-client";

/** Types one marker at a time, a macrotask apart, until stopped: a person typing through whatever happens. */
function typist(client: StockClient, name: string): { typed: string[]; stop(): void } {
  const typed: string[] = [];
  const timer = setInterval(() => {
    const marker = `[${name}${typed.length}]`;
    typed.push(marker);
    client.type([marker]);
  }, 10);
  return { typed, stop: () => clearInterval(timer) };
}

/**
 * A replica drains (what SIGTERM does) while stock y-websocket clients type
 * on it and on another PoP. A stock provider has one URL, so its replica
 * comes back in the same place, as a process manager restarts it; the
 * client reconnects on the draining close (4000, outside 4400-4499) and
 * through the refused connections until it is back, and what it typed
 * meanwhile (refused while draining, or unsent while down) goes in its
 * reconnect's sync.
 */
describe("stock y-websocket clients across a replica's drain", () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster({ database: testDatabases[0]!, broker: "memory", replicasPerPop: 1, flushMs: 300, env: { EDGE_RATE_LIMIT: "off" } });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it("reconnect to the restarted replica by themselves, and every insert reaches both clients and the origin exactly once", async () => {
    const slug = `Riverrun_${Math.random().toString(36).slice(2, 8)}`;
    const [home, other] = [cluster.edgesOf(cluster.pops[0]!)[0]!, cluster.edgesOf(cluster.pops[1]!)[0]!];
    const port = new URL(home.url).port;
    const token = await cluster.token(`Edmure_${slug}`);
    const x = stockClient(home.url, slug, token);
    const y = stockClient(other.url, slug, token);
    const typists: { typed: string[]; stop(): void }[] = [];
    try {
      await until("both providers to sync", () => x.connected && y.connected, Boolean);
      typists.push(typist(x, "X"), typist(y, "Y"));
      const [xs, ys] = typists as [(typeof typists)[0], (typeof typists)[0]];
      const heldBy = (edge: typeof home) => edge.replica.pages.get(slug)?.doc.getText("body").toString() ?? "";
      await until("the draining replica to take 20 of X's inserts", () => markerProblems(heldBy(home), xs.typed.slice(0, 20)).missing.length, (n) => n === 0);

      await home.drain();
      await until("X to hear the replica drain", () => x.closes.map((close) => close.code), (codes) => codes.includes(CloseCode.draining));
      const typedWhileAway = xs.typed.length;
      const restarted = await cluster.addReplica(cluster.pops[0]!, { EDGE_PORT: port });
      await until("X to be connected to the restarted replica", () => x.connected, Boolean);
      await until(
        "the restarted replica to take X's inserts typed after the drain",
        () => markerProblems(heldBy(restarted), xs.typed.slice(0, typedWhileAway + 20)).missing.length,
        (n) => n === 0,
      );
      for (const t of typists) t.stop();

      const expected = [...xs.typed, ...ys.typed];
      for (const [name, client] of [["X", x], ["Y", y]] as const) {
        await until(`${name} to hold all ${expected.length} inserts`, () => markerProblems(client.text(), expected).missing.length, (n) => n === 0);
      }
      const originText = await until(
        `the origin to hold all ${expected.length} inserts`,
        async () => (await committedText(cluster.origin, slug)) ?? "",
        (text) => markerProblems(text, expected).missing.length === 0,
      );
      expect(markerProblems(originText, expected)).toEqual({ missing: [], repeated: [] });
      expect(x.text()).toBe(originText);
      expect(y.text()).toBe(originText);
      await until("both providers to be connected", () => x.connected && y.connected, Boolean);
      expect(y.closes).toEqual([]);
    } finally {
      for (const t of typists) t.stop();
      x.destroy();
      y.destroy();
    }
  });
});
