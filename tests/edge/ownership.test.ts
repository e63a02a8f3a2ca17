import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rendezvousScore } from "../../edge/pop/membership";
import { type Cluster, eventually, startCluster } from "../support/cluster";
import { testDatabases } from "../support/databases";
import { originText } from "../support/origin-text";

describe("page ownership", () => {
  let cluster: Cluster;
  beforeAll(async () => {
    // Relay off: the other PoP's edits then reach this PoP only through the
    // origin, pulled by the page's flusher here, which is what is tested.
    cluster = await startCluster({ database: testDatabases[0]!, broker: "memory", flushMs: 300, env: { EDGE_CROSS_POP_RELAY: "off" } });
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
    expect(await eventually(() => second.replica.pages.get(slug)?.doc.getText("body").toString(), (text) => text === "[maester]", 5000)).toBe("[maester]");
    expect(await eventually(() => originText(cluster.origin, slug), (text) => text === "[maester]", 5000)).toBe("[maester]");
    const flushes = await cluster.origin.db.prisma.pageUpdate.findMany({ where: { page: { slug } }, select: { batchId: true } });
    const batches = await cluster.origin.db.prisma.batch.findMany({ where: { id: { in: flushes.map((flush) => flush.batchId) } } });
    expect(batches.map((batch) => batch.edge)).toEqual([second.replica.replica]);
    await editor.close();
  });

  it("a replica that joins and comes to own a page its peers hold takes the other PoPs' commits of it", async () => {
    const token = await cluster.token("Gilly");
    const [here, there] = cluster.pops as [string, string];
    const [first] = cluster.edgesOf(here);
    const [far] = cluster.edgesOf(there);
    // The cluster names replicas pop-a, pop-b, ... in start order: the next one is known in advance.
    const joiner = `${here}-${String.fromCharCode(97 + cluster.edges.length)}`;
    const members = [...cluster.edgesOf(here).map((edge) => edge.replica.replica), joiner];
    const winner = (slug: string) => members.reduce((best, member) => (rendezvousScore(slug, member) > rendezvousScore(slug, best) ? member : best));
    let slug = "";
    for (let i = 0; !slug; i++) if (winner(`Horn_Hill_${i}`) === joiner) slug = `Horn_Hill_${i}`;

    // Held in this PoP before the joiner exists, and edited in the other PoP too.
    const near = cluster.editor(first!, slug, token);
    const away = cluster.editor(far!, slug, token);
    await Promise.all([near.synced, away.synced]);
    await near.insert(0, "[here]");
    const added = await cluster.addReplica(here);
    expect(added.replica.replica).toBe(joiner);
    expect(await eventually(() => first!.replica.membership.ownerOf(slug), (owner) => owner === joiner, 5000)).toBe(joiner);
    // The joiner was asked to hold the page (nobody here would pull it otherwise).
    await eventually(() => added.replica.pages.get(slug) !== undefined, Boolean, 5000);

    // Committed by the other PoP once the page belongs to the joiner: only the joiner pulls it for this PoP.
    await away.insert(0, "[there]");
    const both = (value: string | undefined) => value?.includes("[there]") === true && value.includes("[here]");
    const onJoiner = await eventually(() => added.replica.pages.get(slug)?.doc.getText("body").toString(), both, 8000);
    expect(both(onJoiner)).toBe(true);
    const onFirst = await eventually(() => first!.replica.pages.get(slug)?.doc.getText("body").toString(), both, 8000);
    expect(both(onFirst)).toBe(true);
    expect(near.text.toString()).toContain("[here]");
    expect(await eventually(() => near.text.toString(), both, 5000)).toContain("[there]");
    await Promise.all([near.close(), away.close()]);
  });
});
