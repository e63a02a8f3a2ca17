import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CloseCode } from "../../protocol/close-codes";
import { type Cluster, startCluster } from "../support/cluster";
import { testDatabases } from "../support/databases";

describe("write-through (origin durability) with the origin gone", () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster({ database: testDatabases[0]!, broker: "memory", durability: "origin" });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it("edits that cannot be committed close the client with a reason and leave the edge serving", async () => {
    const token = await cluster.token("Theon");
    const edge = cluster.edges[0]!;
    const editor = cluster.editor(edge, "Pyke", token);
    await editor.synced;
    expect((await editor.insert(0, "[committed]")).durability).toBe("origin");
    await cluster.stopOriginServer();
    // Several edits in flight at once: the later ones fail while the first
    // still waits, which once crashed the process (an unhandled rejection).
    const pending = [editor.insert(0, "[a]"), editor.insert(0, "[b]"), editor.insert(0, "[c]")];
    const settled = await Promise.allSettled(pending);
    expect(settled.every((result) => result.status === "rejected")).toBe(true);
    const closed = await editor.closed;
    expect(closed.code).toBe(CloseCode.overloaded);
    expect(closed.reason).toMatch(/could not be made durable/);
    const healthy = await fetch(`${edge.httpUrl}/healthz`);
    expect(healthy.status).toBe(200);
  });
});
