import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningEdge } from "../../edge/edge";
import { parseMetricsText } from "../../origin/ops/metrics-text";
import { total } from "../../origin/ops/aggregate";
import { type Cluster, eventually, startCluster } from "../support/cluster";
import { clusterSetups } from "../support/cluster-setups";

const slugOf = (name: string) => `${name}_${Math.random().toString(36).slice(2, 8)}`;

/** A replica's /metrics over HTTP, as the ops view and Prometheus read it. */
async function scrape(edge: RunningEdge) {
  const response = await fetch(`${edge.httpUrl}/metrics`);
  return parseMetricsText(await response.text());
}

async function sumOver(edges: RunningEdge[], name: string, labels: Record<string, string> = {}): Promise<number> {
  const values = await Promise.all(edges.map(async (edge) => total(await scrape(edge), name, labels) ?? 0));
  return values.reduce((sum, value) => sum + value, 0);
}

describe.each(clusterSetups)("the edge's figures for the ops view on $name", ({ options }) => {
  let cluster: Cluster;
  beforeAll(async () => {
    // Flushes happen only when a test says, at pop durability (the PoP's log);
    // the log's entry count is measured every 200 ms instead of 5 s, so that
    // the tests do not wait out the default interval to read it.
    cluster = await startCluster({ ...options, flushMs: 600_000, durability: "pop", env: { EDGE_BROKER_STATS_MS: "200" } });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it("a PoP's dirty pages are counted once, by their flusher, though every holder has them", async () => {
    const pop = cluster.pops[0]!;
    const edges = cluster.edgesOf(pop);
    const slugs = [slugOf("Dirty_a"), slugOf("Dirty_b"), slugOf("Dirty_c")];
    const token = await cluster.token("Sansa");
    const editors = slugs.flatMap((slug) => edges.map((edge) => cluster.editor(edge, slug, token)));
    await Promise.all(editors.map((editor) => editor.synced));
    await Promise.all(editors.map((editor, i) => editor.insert(0, `edit ${i} `)));

    // Both replicas hold all three pages dirty; each page has one flusher.
    const held = await eventually(() => sumOver(edges, "weirwood_edge_unflushed_pages"), (n) => n >= 6);
    expect(held).toBeGreaterThanOrEqual(6);
    expect(await eventually(() => sumOver(edges, "weirwood_edge_owned_unflushed_pages"), (n) => n === 3)).toBe(3);
    expect(await sumOver(edges, "weirwood_edge_owned_unflushed_bytes")).toBeGreaterThan(0);
    // At pop every acknowledged update (the edits, and the editors' sync
    // step 2 on connect) is in the PoP's log until the origin commits it.
    expect(await eventually(() => scrape(edges[0]!).then((s) => total(s, "weirwood_edge_pop_log_entries") ?? 0), (n) => n >= 6)).toBeGreaterThanOrEqual(6);
    expect(await sumOver(edges, "weirwood_edge_last_flush_timestamp_seconds")).toBe(0);

    const before = Date.now() / 1000;
    await Promise.all(edges.map((edge) => edge.replica.flusher.flush("owned")));
    expect(await eventually(() => sumOver(edges, "weirwood_edge_owned_unflushed_pages"), (n) => n === 0)).toBe(0);
    const flushedAt = await Promise.all(edges.map(async (edge) => total(await scrape(edge), "weirwood_edge_last_flush_timestamp_seconds") ?? 0));
    expect(Math.max(...flushedAt)).toBeGreaterThanOrEqual(Math.floor(before));
    // Committed: what stays is one checkpoint per page, from which the log alone rebuilds it.
    expect(await eventually(() => scrape(edges[0]!).then((s) => total(s, "weirwood_edge_pop_log_entries")), (n) => n === slugs.length)).toBe(slugs.length);
    await Promise.all(editors.map((editor) => editor.close()));
  });

  it("an editor that connects and types nothing adds no accepted edit; its first keystroke adds one", async () => {
    const edge = cluster.edgesOf(cluster.pops[1]!)[0]!;
    const slug = slugOf("Quiet");
    const token = await cluster.token("Podrick");
    const accepted = async () => total(await scrape(edge), "weirwood_edge_edits_total", { result: "accepted" }) ?? 0;
    const before = await accepted();
    const editors = [0, 1, 2].map(() => cluster.editor(edge, slug, token));
    await Promise.all(editors.map((editor) => editor.synced));
    // Each sent its (empty) sync step 2 on connect and had it acknowledged.
    await editors[0]!.insert(0, "Ser Pod. ");
    expect(await eventually(accepted, (n) => n >= before + 1)).toBe(before + 1);
    await Promise.all(editors.map((editor) => editor.close()));
  });

  it("the hottest pages count editors (an accepted edit) apart from followers", async () => {
    const edge = cluster.edgesOf(cluster.pops[1]!)[0]!;
    const slug = slugOf("Hot");
    const token = await cluster.token("Arya");
    const typing = [cluster.editor(edge, slug, token), cluster.editor(edge, slug, token)];
    const watching = [0, 1, 2].map(() => cluster.editor(edge, slug, token));
    await Promise.all([...typing, ...watching].map((editor) => editor.synced));
    await Promise.all(typing.map((editor) => editor.insert(0, "Needle. ")));

    const of = (role: string) => async () => total(await scrape(edge), "weirwood_edge_hot_page_clients", { page: slug, role });
    expect(await eventually(of("editor"), (n) => n === 2)).toBe(2);
    expect(await eventually(of("follower"), (n) => n === 3)).toBe(3);

    await Promise.all([...typing, ...watching].map((editor) => editor.close()));
    // A page with no connections leaves the list instead of staying at zero.
    expect(await eventually(of("editor"), (n) => n === undefined)).toBeUndefined();
  });
});
