import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Cluster, eventually, startCluster } from "../support/cluster";
import { testDatabases } from "../support/databases";

describe("page ownership", () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster({ database: testDatabases[0]!, broker: "memory", flushMs: 300 });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it("an edit on a replica that is not the page's flusher reaches the origin though no client is on the flusher", async () => {
    const token = await cluster.token("Sam");
    const pop = cluster.pops[0]!;
    const [first, second] = cluster.edgesOf(pop) as [(typeof cluster.edges)[0], (typeof cluster.edges)[0]];
    // A slug that the second replica flushes, edited only through the first.
    let slug = "";
    for (let i = 0; !slug; i++) {
      const candidate = `Citadel_${i}`;
      if (first.replica.membership.ownerOf(candidate) === second.replica.replica) slug = candidate;
    }
    const editor = cluster.editor(first, slug, token);
    await editor.synced;
    await editor.insert(0, "[maester]");
    // The flusher was asked to hold the page, and flushes it on its own clock.
    await eventually(() => second.replica.pages.get(slug)?.doc.getText("body").toString(), (text) => text === "[maester]", 5000);
    const page = await eventually(
      () => cluster.origin.db.prisma.page.findUnique({ where: { slug } }),
      (found) => found?.text === "[maester]",
      5000,
    );
    expect(page?.text).toBe("[maester]");
    const batches = await cluster.origin.db.prisma.batch.findMany({ where: { revisions: { some: { page: { slug } } } } });
    expect(batches.map((batch) => batch.edge)).toEqual([second.replica.replica]);
    await editor.close();
  });
});
