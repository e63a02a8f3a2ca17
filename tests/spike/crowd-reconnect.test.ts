import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCrowd } from "../../e2e/spike/hot-page/crowd";
import { type Cluster, startCluster } from "../support/cluster";
import { testDatabases } from "../support/databases";

/**
 * The hot-page crowd against real edges: a receiver the edge closes must
 * come back (to its PoP's other replica, as a real client does) and catch
 * up, or count what it missed as undelivered; the check never quietly
 * leaves it out.
 */
describe("the hot-page crowd when an edge closes its receivers", () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster({ database: testDatabases[0]!, broker: "memory", env: { EDGE_RATE_LIMIT: "off" } });
  });
  afterAll(() => cluster?.stop());

  it("receivers closed by a draining replica reconnect, catch up, and every acknowledged edit reaches every receiver", async () => {
    const token = await cluster.token("Crowd");
    const draining = cluster.edges[0]!;
    let typing!: () => void;
    const measuring = new Promise<void>((resolve) => (typing = resolve));
    const crowd = runCrowd({
      edges: cluster.edges.map((edge) => ({ pop: edge.replica.pop, url: edge.url, replica: edge.replica.replica })),
      slug: "Crowd_reconnects",
      tokens: [token],
      editors: 8,
      followers: 8,
      probes: 4,
      editsPerSecond: 2,
      cursorMovesPerSecond: 1,
      seconds: 4,
      warmupSeconds: 1,
      workers: 1,
      tag: "rc",
      onProgress: (progress) => {
        if (progress.atS >= 1 && progress.acked > 0) typing();
      },
    });
    // Once the crowd is typing through it, the replica drains: it closes its clients with 4000.
    await measuring;
    expect(draining.replica.connectionCount).toBe(4);
    await draining.drain();
    const result = await crowd;
    expect(result.acked).toBeGreaterThan(0);
    // Every receiver is checked, the 4 the replica closed included, and none lacks anything.
    expect(result.receiversChecked).toBe(16);
    expect({ undelivered: result.undelivered, examples: result.undeliveredExamples }).toEqual({ undelivered: 0, examples: [] });
    expect(Object.keys(result.closes).some((reason) => reason.startsWith("4000 "))).toBe(true);
    expect(result.reconnects).toBeGreaterThanOrEqual(4);
  });
});
