import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { currentTexts } from "../../origin/pages";
import { originText } from "../support/origin-text";
import { serveOrigin } from "../../origin/http/node-adapter";
import { type Cluster, eventually, startCluster } from "../support/cluster";
import { clusterSetups } from "../support/cluster-setups";

const slugOf = (name: string) => `${name}_${Math.random().toString(36).slice(2, 8)}`;

describe.each(clusterSetups)("flushing to the origin on $name", ({ options }) => {
  let cluster: Cluster;
  beforeAll(async () => {
    // A flush interval longer than the test: flushes happen only when the test says.
    cluster = await startCluster({ ...options, flushMs: 600_000 });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it("a burst of 2,000 edits on 5 pages costs one origin transaction per flushing replica", async () => {
    const slugs = Array.from({ length: 5 }, (_, i) => slugOf(`Burst_${i}`));
    const token = await cluster.token("Bran");
    const editors = slugs.flatMap((slug) => cluster.edges.map((edge) => cluster.editor(edge, slug, token)));
    await Promise.all(editors.map((editor) => editor.synced));
    const acks = [];
    for (let i = 0; i < 2000; i++) acks.push(editors[i % editors.length]!.insert(0, "x"));
    await Promise.all(acks);
    // Every replica has every edit of its PoP before the flush.
    for (const slug of slugs) {
      await eventually(
        () => cluster.edges.map((edge) => edge.replica.pages.get(slug)?.doc.getText("body").length ?? 0),
        (lengths) => cluster.pops.every((pop) => {
          const ofPop = cluster.edges.map((edge, i) => (edge.replica.pop === pop ? lengths[i] : undefined)).filter((n) => n !== undefined);
          return ofPop.every((n) => n === ofPop[0]);
        }),
      );
    }
    const before = await cluster.origin.db.prisma.batch.count();
    await Promise.all(cluster.edges.map((edge) => edge.replica.flusher.flush("owned")));
    const flushers = new Set(
      cluster.edges.flatMap((edge) => slugs.map((slug) => `${edge.replica.pop}/${edge.replica.membership.ownerOf(slug)}`)),
    );
    expect(await cluster.origin.db.prisma.batch.count()).toBe(before + flushers.size);

    // The origin then holds all 2,000 edits: the PoPs converge through it.
    await Promise.all(cluster.edges.map((edge) => edge.replica.flusher.flush("owned")));
    const texts = await currentTexts(cluster.origin.db.prisma, slugs);
    expect([...texts.values()].reduce((sum, text) => sum + text.length, 0)).toBe(2000);
    await Promise.all(editors.map((editor) => editor.close()));
  });
});

describe.each(clusterSetups)("an origin that goes away on $name", ({ options }) => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster({ ...options, flushMs: 200 });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it("edges keep acknowledging for the 10 s it is down, and flush everything once it is back", async () => {
    const slug = slugOf("Origin_down");
    const token = await cluster.token("Hodor");
    const editors = cluster.edges.map((edge) => cluster.editor(edge, slug, token));
    await Promise.all(editors.map((editor) => editor.synced));
    await editors[0]!.insert(0, "[before]");

    const port = Number(new URL(cluster.originUrl).port);
    await cluster.stopOriginServer();
    // Ten seconds of typing with the origin down, as the issue asks.
    const markers: string[] = [];
    const downUntil = Date.now() + 10_000;
    for (let i = 0; Date.now() < downUntil; i++) {
      const marker = `[down${i}]`;
      markers.push(marker);
      const ack = await editors[i % editors.length]!.insert(0, marker);
      expect(ack.durability).toBe("edge");
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const errors = await Promise.all(cluster.edges.map(async (edge) => (await edge.replica.metrics.originErrors.get()).values[0]?.value ?? 0));
    expect(errors.some((count) => count > 0)).toBe(true);
    const restarted = await serveOrigin(cluster.origin, { port });
    try {
      const text = await eventually(
        async () => (await originText(cluster.origin, slug)) ?? "",
        (value) => markers.every((marker) => value.includes(marker)),
      );
      for (const marker of [...markers, "[before]"]) expect(text.split(marker).length - 1).toBe(1);
    } finally {
      await Promise.all(editors.map((editor) => editor.close()));
      await restarted.close();
    }
  });
});

describe.each(clusterSetups)("memory while the origin is away on $name", ({ options }) => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster({ ...options, flushMs: 200, env: { EDGE_MAX_UNFLUSHED_BYTES: "4000" } });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it("past the unflushed-bytes limit a write is refused with 4503 and a reason, and what was acknowledged is flushed once the origin returns", async () => {
    const slug = slugOf("Bounded");
    const token = await cluster.token("Samwell");
    const editor = cluster.editor(cluster.edges[0]!, slug, token);
    await editor.synced;
    const port = Number(new URL(cluster.originUrl).port);
    await cluster.stopOriginServer();
    const acknowledged: string[] = [];
    let refused: { code: number; reason: string } | undefined;
    for (let i = 0; i < 400 && !refused; i++) {
      const marker = `[${"x".repeat(40)}${i}]`;
      try {
        await editor.insert(0, marker);
        acknowledged.push(marker);
      } catch {
        refused = await editor.closed;
      }
      // The replica sums its unflushed bytes once a second.
      if (i % 20 === 19) await new Promise((resolve) => setTimeout(resolve, 300));
    }
    expect(refused?.code).toBe(4503);
    expect(refused?.reason).toMatch(/the origin has not taken/);
    const restarted = await serveOrigin(cluster.origin, { port });
    try {
      const text = await eventually(
        async () => (await originText(cluster.origin, slug)) ?? "",
        (value) => acknowledged.every((marker) => value.includes(marker)),
      );
      for (const marker of acknowledged) expect(text).toContain(marker);
    } finally {
      await restarted.close();
    }
  });
});
