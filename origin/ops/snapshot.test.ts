import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import type { EdgeEntry, GoneEdge } from "../edge-directory";
import type { Scrape } from "./aggregate";
import { parseMetricsText } from "./metrics-text";
import { buildSnapshot, type ReplicaScrapes } from "./snapshot";

/** A replica's real prom-client registry with the metric names an edge serves. */
function replica(pop: string, name: string, durability: "edge" | "pop" = "edge") {
  const registry = new Registry();
  registry.setDefaultLabels({ pop, replica: name });
  const registers = [registry];
  const info = new Gauge({ name: "weirwood_edge_info", help: "i", labelNames: ["durability"] as const, registers });
  info.set({ durability }, 1);
  const metrics = {
    connections: new Gauge({ name: "weirwood_edge_connections", help: "c", registers }),
    edits: new Counter({ name: "weirwood_edge_edits_total", help: "e", labelNames: ["result"] as const, registers }),
    ack: new Histogram({
      name: "weirwood_edge_ack_latency_seconds",
      help: "a",
      labelNames: ["durability"] as const,
      buckets: [0.001, 0.005, 0.01],
      registers,
    }),
    ownedDirty: new Gauge({ name: "weirwood_edge_owned_unflushed_pages", help: "d", registers }),
    lastFlush: new Gauge({ name: "weirwood_edge_last_flush_timestamp_seconds", help: "f", registers }),
    log: new Gauge({ name: "weirwood_edge_pop_log_entries", help: "l", registers }),
    hot: new Gauge({ name: "weirwood_edge_hot_page_clients", help: "h", labelNames: ["page", "role"] as const, registers }),
  };
  const entry: EdgeEntry = { pop, replica: name, url: "ws://x", httpUrl: `http://${name}`, state: "up", connections: 0, pages: 0, lastSeen: 0 };
  const scrape = async (at: number): Promise<Scrape> => ({ replica: name, at, ok: true, samples: parseMetricsText(await registry.metrics()) });
  return { ...metrics, entry, scrape };
}

function originRegistry() {
  const registry = new Registry();
  const registers = [registry];
  const batches = new Counter({ name: "weirwood_origin_batches_total", help: "b", labelNames: ["result"] as const, registers });
  const edits = new Counter({ name: "weirwood_origin_edits_merged_total", help: "e", registers });
  const scrape = async (at: number): Promise<Scrape> => ({ replica: "origin", at, ok: true, samples: parseMetricsText(await registry.metrics()) });
  return { batches, edits, scrape };
}

const failed = (name: string, at: number): Scrape => ({ replica: name, at, ok: false, error: "connect ECONNREFUSED" });

describe("an ops snapshot", () => {
  it("sums a PoP's acknowledged edits per second and dirty pages over its replicas", async () => {
    const a = replica("us-east", "us-east-a");
    const b = replica("us-east", "us-east-b");
    const origin = originRegistry();
    const before = { a: await a.scrape(0), b: await b.scrape(0), origin: await origin.scrape(0) };
    a.edits.inc({ result: "accepted" }, 300);
    b.edits.inc({ result: "accepted" }, 100);
    b.edits.inc({ result: "refused" }, 2);
    a.ownedDirty.set(4);
    b.ownedDirty.set(1);
    const live: ReplicaScrapes[] = [
      { entry: a.entry, previous: before.a, current: await a.scrape(2000) },
      { entry: b.entry, previous: before.b, current: await b.scrape(2000) },
    ];
    const snapshot = buildSnapshot({
      at: 2000,
      edgesKnown: true,
      live,
      gone: [],
      origin: { previous: before.origin, current: await origin.scrape(2000), windowStart: before.origin },
    });
    expect(snapshot.pops).toHaveLength(1);
    expect(snapshot.pops[0]).toMatchObject({ pop: "us-east", acceptedPerSecond: 200, refusedPerSecond: 1, dirtyPages: 5 });
    expect(snapshot.acceptedPerSecond).toBe(200);
  });

  it("an unreachable replica has no figures, and its PoP's sums are over the replicas that answered", async () => {
    const a = replica("us-east", "us-east-a");
    const b = replica("us-east", "us-east-b");
    const origin = originRegistry();
    const first = await a.scrape(0);
    a.edits.inc({ result: "accepted" }, 10);
    const snapshot = buildSnapshot({
      at: 1000,
      edgesKnown: true,
      live: [
        { entry: a.entry, previous: first, current: await a.scrape(1000) },
        { entry: b.entry, previous: await b.scrape(0), current: failed("us-east-b", 1000) },
      ],
      gone: [],
      origin: { previous: undefined, current: await origin.scrape(1000), windowStart: undefined },
    });
    const [up, down] = snapshot.pops[0]!.replicas;
    expect(up).toMatchObject({ replica: "us-east-a", reachable: true, figures: { acceptedPerSecond: 10 } });
    expect(down).toMatchObject({ replica: "us-east-b", state: "up", reachable: false, error: "connect ECONNREFUSED" });
    expect(down!.figures).toBeUndefined();
    expect(snapshot.pops[0]!.acceptedPerSecond).toBe(10);
  });

  it("a PoP none of whose replicas answered has no figures rather than zeros", async () => {
    const a = replica("eu-west", "eu-west-a");
    const origin = originRegistry();
    const snapshot = buildSnapshot({
      at: 1000,
      edgesKnown: true,
      live: [{ entry: a.entry, previous: await a.scrape(0), current: failed("eu-west-a", 1000) }],
      gone: [],
      origin: { previous: undefined, current: await origin.scrape(1000), windowStart: undefined },
    });
    expect(snapshot.pops[0]!.acceptedPerSecond).toBeUndefined();
    expect(snapshot.pops[0]!.dirtyPages).toBeUndefined();
    expect(snapshot.acceptedPerSecond).toBeUndefined();
  });

  it("gone replicas are listed under their PoP as gone, even when the PoP has no live one", async () => {
    const origin = originRegistry();
    const gone: GoneEdge = { pop: "eu-west", replica: "eu-west-b", url: "ws://x", httpUrl: "http://x", connections: 0, pages: 0, lastSeen: 900, state: "gone", goneAt: 950 };
    const snapshot = buildSnapshot({
      at: 1000,
      edgesKnown: true,
      live: [],
      gone: [gone],
      origin: { previous: undefined, current: await origin.scrape(1000), windowStart: undefined },
    });
    expect(snapshot.pops).toMatchObject([{ pop: "eu-west", replicas: [{ replica: "eu-west-b", state: "gone", reachable: false, goneAt: 950 }] }]);
  });

  it("ack latency per durability is over the last interval, merged across replicas", async () => {
    const a = replica("us-east", "us-east-a");
    const b = replica("eu-west", "eu-west-a", "pop");
    const origin = originRegistry();
    for (let i = 0; i < 50; i++) a.ack.observe({ durability: "edge" }, 0.008);
    const before = { a: await a.scrape(0), b: await b.scrape(0) };
    for (let i = 0; i < 99; i++) a.ack.observe({ durability: "edge" }, 0.0005);
    b.ack.observe({ durability: "edge" }, 0.0005);
    for (let i = 0; i < 10; i++) b.ack.observe({ durability: "pop" }, 0.003);
    const snapshot = buildSnapshot({
      at: 1000,
      edgesKnown: true,
      live: [
        { entry: a.entry, previous: before.a, current: await a.scrape(1000) },
        { entry: b.entry, previous: before.b, current: await b.scrape(1000) },
      ],
      gone: [],
      origin: { previous: undefined, current: await origin.scrape(1000), windowStart: undefined },
    });
    // The 50 slow acks before the interval do not count.
    expect(snapshot.ackLatency.edge!.p99).toBeLessThanOrEqual(0.001);
    expect(snapshot.ackLatency.pop!.p50).toBeGreaterThan(0.001);
    expect(snapshot.ackLatency.pop!.p99).toBeLessThanOrEqual(0.005);
    expect(snapshot.ackLatency.origin).toBeUndefined();
  });

  it("the batching factor is edits per origin transaction over the window; the PoP's backlog and flush age come from its replicas", async () => {
    const a = replica("us-east", "us-east-a", "pop");
    const origin = originRegistry();
    const start = await origin.scrape(0);
    origin.batches.inc({ result: "merged" }, 3);
    origin.batches.inc({ result: "duplicate" }, 1);
    origin.edits.inc(6000);
    const previous = await origin.scrape(29_000);
    origin.batches.inc({ result: "merged" }, 1);
    origin.edits.inc(2000);
    a.lastFlush.set(25);
    a.log.set(17);
    const snapshot = buildSnapshot({
      at: 30_000,
      edgesKnown: true,
      live: [{ entry: a.entry, previous: undefined, current: await a.scrape(30_000) }],
      gone: [],
      origin: { previous, current: await origin.scrape(30_000), windowStart: start },
    });
    expect(snapshot.origin.batchingFactor).toBeCloseTo(2000, 9);
    expect(snapshot.origin.batchingWindowSeconds).toBe(30);
    expect(snapshot.origin.batchesPerSecond).toBe(1);
    expect(snapshot.origin.editsPerSecond).toBe(2000);
    expect(snapshot.pops[0]).toMatchObject({ secondsSinceFlush: 5, logBacklog: 17 });
  });

  it("at edge durability there is no log backlog figure, and no flush age before the first flush", async () => {
    const a = replica("us-east", "us-east-a", "edge");
    const origin = originRegistry();
    const snapshot = buildSnapshot({
      at: 1000,
      edgesKnown: true,
      live: [{ entry: a.entry, previous: undefined, current: await a.scrape(1000) }],
      gone: [],
      origin: { previous: undefined, current: await origin.scrape(1000), windowStart: undefined },
    });
    expect(snapshot.pops[0]!.logBacklog).toBeUndefined();
    expect(snapshot.pops[0]!.secondsSinceFlush).toBeUndefined();
  });

  it("the hottest pages add up a page's editors and followers over replicas and PoPs", async () => {
    const a = replica("us-east", "us-east-a");
    const b = replica("eu-west", "eu-west-a");
    const origin = originRegistry();
    a.hot.set({ page: "Red_Wedding", role: "editor" }, 40);
    a.hot.set({ page: "Red_Wedding", role: "follower" }, 100);
    b.hot.set({ page: "Red_Wedding", role: "editor" }, 2);
    b.hot.set({ page: "Twins", role: "follower" }, 7);
    const snapshot = buildSnapshot({
      at: 1000,
      edgesKnown: true,
      live: [
        { entry: a.entry, previous: undefined, current: await a.scrape(1000) },
        { entry: b.entry, previous: undefined, current: await b.scrape(1000) },
      ],
      gone: [],
      origin: { previous: undefined, current: await origin.scrape(1000), windowStart: undefined },
    });
    expect(snapshot.hotPages).toEqual([
      { slug: "Red_Wedding", editors: 42, followers: 100, pops: ["us-east", "eu-west"] },
      { slug: "Twins", editors: 0, followers: 7, pops: ["eu-west"] },
    ]);
  });
});
