import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Cluster, eventually, startCluster } from "../support/cluster";
import { testDatabases } from "../support/databases";

describe("presence and page settings across PoPs", () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster({ database: testDatabases[0]!, broker: "memory", flushMs: 300 });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it("an editor sees the cursor of an editor on another PoP, and it disappears when that editor leaves", async () => {
    const token = await cluster.token("Gendry");
    const [east, west] = cluster.pops.map((pop) => cluster.edgesOf(pop)[0]!) as [(typeof cluster.edges)[0], (typeof cluster.edges)[0]];
    const a = cluster.editor(east, "Kings_Landing", token);
    const b = cluster.editor(west, "Kings_Landing", token);
    await Promise.all([a.synced, b.synced]);
    b.awareness.setLocalStateField("user", { name: "Arya", color: "#c33" });
    const seen = await eventually(
      () => a.awareness.getStates().get(b.doc.clientID) as { user?: { name: string } } | undefined,
      (state) => state?.user?.name === "Arya",
      5000,
    );
    expect(seen?.user?.name).toBe("Arya");
    await b.close();
    const gone = await eventually(() => a.awareness.getStates().has(b.doc.clientID), (has) => !has, 5000);
    expect(gone).toBe(false);
    await a.close();
  });

  it("protecting a page reaches the edges that already hold it: an editor's next write is refused", async () => {
    await cluster.token("Cersei", "admin");
    const editorToken = await cluster.token("Lancel");
    const edge = cluster.edges[0]!;
    const editor = cluster.editor(edge, "Great_Sept", editorToken);
    await editor.synced;
    await editor.insert(0, "[before]");
    await eventually(() => cluster.origin.db.prisma.page.findUnique({ where: { slug: "Great_Sept" } }), (page) => page !== null, 5000);
    const login = await fetch(`${cluster.originUrl}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "Cersei", password: "correct horse battery" }),
    });
    const cookie = login.headers.get("set-cookie")!.split(";")[0]!;
    const protect = await fetch(`${cluster.originUrl}/api/pages/Great_Sept/protection`, {
      method: "PUT",
      headers: { "content-type": "application/json", cookie },
      body: JSON.stringify({ protection: "admin" }),
    });
    expect(protect.status).toBe(200);
    await eventually(() => edge.replica.pages.get("Great_Sept")?.protection, (level) => level === "admin", 5000);
    editor.text.insert(0, "[after]");
    const denied = await eventually(() => editor.denied.length, (count) => count > 0, 5000);
    expect(denied).toBeGreaterThan(0);
    expect(edge.replica.pages.get("Great_Sept")?.doc.getText("body").toString()).toBe("[before]");
    await editor.close();
  });
});
