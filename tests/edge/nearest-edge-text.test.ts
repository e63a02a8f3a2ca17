import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Slug } from "../../common/slug";
import { textFingerprint } from "../../common/page-text";
import { newerEdgeText } from "../../components/page/nearest-edge-text";
import { getPage } from "../../origin/pages";
import { type Cluster, startCluster } from "../support/cluster";
import { testDatabases } from "../support/databases";

/**
 * The page view's second look (issue 21): a served copy of a page is
 * replaced by the nearest edge's text only when that edge holds a newer one,
 * never by an edge that lags. Against a real edge and origin, with flushes
 * only when the test asks, so "before the flush" is a state, not a race.
 */
describe("the nearest edge's text for a page view", () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster({ database: testDatabases[0]!, broker: "memory", replicasPerPop: 2, flushMs: 600_000 });
  });
  afterAll(() => cluster?.stop());

  it("is offered when the edge holds edits the served copy lacks, and not when it holds the same text, lags, or does not hold the page", async () => {
    const slug = `Oldtown_${Math.random().toString(36).slice(2, 8)}` as Slug;
    // The writer's replica is the PoP's second: the first does not hold the page (404), so both are asked.
    const pop = cluster.pops[0]!;
    const edge = cluster.edgesOf(pop)[1]!;
    const edges = cluster.edgesOf(pop).map((each) => ({ pop, replica: each.replica.replica, url: each.url }));
    const editor = cluster.editor(edge, slug, await cluster.token("Sam"));
    await editor.synced;
    await editor.insert(0, "[first]");
    // "all": the writer's replica may not be the page's flusher (its owner in the PoP).
    await edge.replica.flusher.flush("all");
    const served = await getPage(cluster.origin.db.prisma, { slug });
    expect(served.text).toBe("[first]");
    const ask = (view: { version: number; text: string }, page: string = slug) =>
      newerEdgeText({ slug: page, version: view.version, fingerprint: textFingerprint(view.text), edges, pop: edge.replica.pop });

    // The same text: nothing to show.
    expect(await ask(served)).toBeUndefined();
    // Acknowledged at the edge, not flushed: the served copy trails it.
    await editor.insert("[first]".length, "[second]");
    expect(await ask(served)).toEqual({ text: "[first][second]", pop: edge.replica.pop });
    // A copy newer than what the edge last heard from the origin: the edge lags, its text is not shown.
    expect(await ask({ version: served.version + 1, text: "[first][third]" })).toBeUndefined();
    // A page the edge does not hold: 404 there, nothing shown.
    expect(await ask(served, `Nowhere_${slug}`)).toBeUndefined();
    await editor.close();
  });
});
