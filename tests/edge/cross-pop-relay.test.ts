import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Cluster, eventually, startCluster } from "../support/cluster";
import { testDatabases } from "../support/databases";

/**
 * Co-editors on two PoPs see each other's keystrokes through the live relay
 * (subjects.pageRelay), not a flush interval later through the origin; the
 * PoP that accepted an edit is still the one that flushes it.
 */
describe.each([
  { relay: "on", flushMs: 600_000 },
  { relay: "off", flushMs: 600_000 },
])("cross-PoP relay $relay", ({ relay, flushMs }) => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster({ database: testDatabases[0]!, broker: "memory", flushMs, env: { EDGE_CROSS_POP_RELAY: relay } });
  });
  afterAll(() => cluster?.stop());

  it(relay === "on" ? "an edit in one PoP reaches the other PoP's clients at once, and only its own PoP has it to flush" : "without it, an edit waits for a flush to cross", async () => {
    const token = await cluster.token(`Relay ${relay}`);
    const slug = `Crossing_${relay}`;
    const [east, west] = [cluster.edgesOf(cluster.pops[0]!)[0]!, cluster.edgesOf(cluster.pops[1]!)[1]!];
    const writer = cluster.editor(east, slug, token);
    const reader = cluster.editor(west, slug, token);
    await Promise.all([writer.synced, reader.synced]);
    await writer.insert(0, "[across]");
    if (relay === "on") {
      // Flushes are ten minutes apart here: only the relay can carry it.
      expect(await eventually(() => reader.text.toString(), (text) => text === "[across]", 5000)).toBe("[across]");
      expect(west.replica.pages.get(slug)?.dirty).toBe(false);
      expect(east.replica.pages.get(slug)?.dirty).toBe(true);
    } else {
      // A barrier instead of a sleep: the writer's presence, sent after the
      // edit on the same socket, crosses to the other PoP by the broker as
      // a relayed edit would. Once the reader sees it, a relayed edit
      // would have arrived before it.
      writer.awareness.setLocalState({ user: { name: "barrier" } });
      await eventually(() => reader.awareness.getStates().has(writer.doc.clientID), Boolean, 5000);
      expect(reader.text.toString()).toBe("");
      expect(west.replica.pages.get(slug)?.doc.getText("body").toString()).toBe("");
    }
    await Promise.all([writer.close(), reader.close()]);
  });
});
