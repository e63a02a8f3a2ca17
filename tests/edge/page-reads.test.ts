import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Cluster, startCluster } from "../support/cluster";
import { clusterSetups } from "../support/cluster-setups";
import { testDatabases } from "../support/databases";
import { httpGet } from "../support/http-get";
import { originText } from "../support/origin-text";

const setups = clusterSetups;

const slugOf = (name: string) => `${name}_${Math.random().toString(36).slice(2, 8)}`;

/** weirwood_edge_page_reads_total of one answer on one replica. */
async function readsAnswered(httpUrl: string, answer: string): Promise<number> {
  const text = (await httpGet(`${httpUrl}/metrics`)).body;
  const line = text.split("\n").find((row) => row.startsWith("weirwood_edge_page_reads_total{") && row.includes(`answer="${answer}"`));
  return line ? Number(line.split(" ").at(-1)) : 0;
}

interface PageRead {
  slug: string;
  text: string;
  revision: number;
}

describe.each(setups)("GET /pages/:slug on an edge over $name", ({ options }) => {
  let cluster: Cluster;
  beforeAll(async () => {
    // No flush but the ones the tests ask for: "before the flush" is a state, not a race.
    cluster = await startCluster({ ...options, replicasPerPop: 1, flushMs: 600_000 });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  const readEdge = (edgeIndex: number, slug: string, headers: Record<string, string> = {}) =>
    httpGet(`${cluster.edges[edgeIndex]!.httpUrl}/pages/${encodeURIComponent(slug)}`, { headers });

  it("answers the text with every write acknowledged through it, before the flush; after it the origin's equals or trails the edge's", async () => {
    const slug = slugOf("Castle_Black");
    const [edge] = cluster.edges;
    const editor = cluster.editor(edge!, slug, await cluster.token("Jon"));
    await editor.synced;
    await editor.insert(0, "[first]");

    const before = await readEdge(0, slug);
    expect(before.status).toBe(200);
    expect(JSON.parse(before.body)).toEqual({ slug, text: "[first]", revision: 0 });
    expect(await originText(cluster.origin, slug)).toBeUndefined();

    await edge!.replica.flusher.flush("owned");
    const flushed = JSON.parse((await readEdge(0, slug)).body) as PageRead;
    expect(await originText(cluster.origin, slug)).toBe(flushed.text);
    const atOrigin = await httpGet(`${cluster.originUrl}/api/pages/${slug}`);
    // The flush's answer names the revision it made; the origin's read API counts it once its text refresh runs.
    expect(flushed.revision).toBeGreaterThan(0);
    expect(flushed.revision).toBeGreaterThanOrEqual((JSON.parse(atOrigin.body) as PageRead).revision);

    await editor.insert("[first]".length, "[second]");
    const after = JSON.parse((await readEdge(0, slug)).body) as PageRead;
    expect(after.text).toBe("[first][second]");
    expect(await originText(cluster.origin, slug)).toBe("[first]");
    await editor.close();
  });

  it("carries the origin's Cache-Control and a strong ETag, and answers 304 to it until the page changes", async () => {
    const slug = slugOf("Eastwatch");
    const [edge] = cluster.edges;
    const editor = cluster.editor(edge!, slug, await cluster.token("Tormund"));
    await editor.synced;
    await editor.insert(0, "[wall]");
    await edge!.replica.flusher.flush("owned");

    const first = await readEdge(0, slug);
    const etag = first.headers.etag as string;
    expect(etag).toMatch(/^"[^"]+"$/u);
    const atOrigin = await httpGet(`${cluster.originUrl}/api/pages/${slug}`);
    expect(first.headers["cache-control"]).toBe(atOrigin.headers["cache-control"]);
    expect(first.headers["cache-control"]).toMatch(/^public, /u);
    // Public and uncredentialed: a page of another origin (the wiki's) may read it from the browser.
    expect(first.headers["access-control-allow-origin"]).toBe("*");

    const again = await readEdge(0, slug, { "if-none-match": etag });
    expect(again.status).toBe(304);
    expect(again.body).toBe("");
    expect(again.headers.etag).toBe(etag);
    expect(again.headers["cache-control"]).toBe(first.headers["cache-control"]);
    expect(await readsAnswered(edge!.httpUrl, "not_modified")).toBeGreaterThanOrEqual(1);
    expect((await readEdge(0, slug, { "if-none-match": `"other", W/${etag}` })).status).toBe(304);

    await editor.insert(0, "[breach]");
    const changed = await readEdge(0, slug, { "if-none-match": etag });
    expect(changed.status).toBe(200);
    expect(changed.headers.etag).not.toBe(etag);
    expect((JSON.parse(changed.body) as PageRead).text).toBe("[breach][wall]");
    await editor.close();
  });

  it("is a 404 naming the page for a page the replica does not hold, and does not load it", async () => {
    const slug = slugOf("Hardhome");
    // The page exists at the origin (written through the first PoP); the second PoP's replica never held it.
    const editor = cluster.editor(cluster.edges[0]!, slug, await cluster.token("Sam"));
    await editor.synced;
    await editor.insert(0, "[wights]");
    await cluster.edges[0]!.replica.flusher.flush("owned");
    await editor.close();
    expect(await originText(cluster.origin, slug)).toBe("[wights]");

    const other = cluster.edges[1]!;
    const answer = await readEdge(1, slug);
    expect(answer.status).toBe(404);
    expect(answer.headers["cache-control"]).toBe("no-store");
    expect(answer.headers["access-control-allow-origin"]).toBe("*");
    const body = JSON.parse(answer.body) as { error: string; slug: string; message: string };
    expect(body.error).toBe("not_held");
    expect(body.slug).toBe(slug);
    expect(body.message).toContain(slug);
    expect(other.replica.heldPage(slug)).toBeUndefined();
    expect(other.replica.loadingPage(slug)).toBeUndefined();
    expect(await readsAnswered(other.httpUrl, "not_held")).toBe(1);
  });

  it("is a 400 for a slug no page may have", async () => {
    const base = `${cluster.edges[0]!.httpUrl}/pages/`;
    for (const raw of ["", "a%2Fb", "Bad%20space", "%E0%A4%A", "_Leading"]) {
      const answer = await httpGet(base + raw);
      expect(answer.status, raw).toBe(400);
      expect((JSON.parse(answer.body) as { error: string; message: string }).message, raw).toMatch(/^slug: /u);
    }
  });
});

describe("page reads per client address", () => {
  const burst = 3;
  const rate = 1;
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster({
      database: testDatabases[0]!,
      broker: "memory",
      pops: ["us-east"],
      replicasPerPop: 1,
      env: { EDGE_PAGE_READ_BURST: String(burst), EDGE_PAGE_READ_RATE: String(rate) },
    });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it("are bounded: past its burst an address gets 429 with Retry-After, while another address still reads", async () => {
    const url = `${cluster.edges[0]!.httpUrl}/pages/Nowhere`;
    const started = performance.now();
    const answers = [];
    for (let i = 0; i < 10; i++) answers.push(await httpGet(url, { localAddress: "127.0.0.1" }));
    const elapsedSeconds = (performance.now() - started) / 1000;
    const refused = answers.filter((answer) => answer.status === 429);
    // At most the burst plus what refilled while they were sent got through.
    expect(answers.length - refused.length).toBeLessThanOrEqual(burst + Math.ceil(elapsedSeconds * rate));
    expect(refused.length).toBeGreaterThan(0);
    expect(Number(refused[0]!.headers["retry-after"])).toBeGreaterThanOrEqual(1);
    expect((JSON.parse(refused[0]!.body) as { error: string }).error).toBe("rate_limited");

    expect((await httpGet(url, { localAddress: "127.0.0.2" })).status).toBe(404);
  });
});
