import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Cluster, startCluster } from "../support/cluster";
import { testDatabases } from "../support/databases";

const slugOf = (name: string) => `${name}_${Math.random().toString(36).slice(2, 8)}`;

describe("a replica added while the origin is down", () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster({ database: testDatabases[0]!, broker: "memory", pops: ["keys"], replicasPerPop: 2, flushMs: 60_000 });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it("verifies tokens with its peers' copy of the signing keys, serves the page from them, and says it is ready", async () => {
    const slug = slugOf("Castle_Black");
    const token = await cluster.token("Edd");
    // The running replicas have fetched the keys and hold the page.
    const first = cluster.editor(cluster.edges[0]!, slug, token);
    await first.synced;
    await first.insert(0, "[before the origin fell]");

    await cluster.stopOriginServer();
    const added = await cluster.addReplica(cluster.pops[0]!);
    const ready = await fetch(`${added.httpUrl}/readyz`);
    expect(ready.status).toBe(200);

    const late = cluster.editor(added, slug, token);
    await late.synced;
    expect(late.text.toString()).toContain("[before the origin fell]");
    const ack = await late.insert(late.text.length, "[typed on the new replica]");
    expect(ack.durability).toBe("edge");
    await first.close();
    await late.close();
  });
});
