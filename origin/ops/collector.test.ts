import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Counter, Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import type { EdgeEntry, GoneEdge } from "../edge-directory";
import { OpsCollector } from "./collector";

/** A replica's /metrics on a real port, counting how often it is read. */
async function metricsServer(pop: string, replica: string) {
  const registry = new Registry();
  registry.setDefaultLabels({ pop, replica });
  const edits = new Counter({ name: "weirwood_edge_edits_total", help: "e", labelNames: ["result"] as const, registers: [registry] });
  let reads = 0;
  const server: Server = createServer((_request, response) => {
    reads += 1;
    void registry.metrics().then((text) => response.writeHead(200, { "content-type": registry.contentType }).end(text));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const httpUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const entry: EdgeEntry = { pop, replica, url: "ws://unused", httpUrl, state: "up", connections: 0, pages: 0, lastSeen: Date.now() };
  return {
    entry,
    edits,
    get reads() {
      return reads;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A port nothing listens on. */
async function closedPort(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return url;
}

const originMetrics = async () => new Registry().metrics();
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

describe("the ops collector", () => {
  it("reads each live replica's /metrics over HTTP and reports acknowledged edits per second", async () => {
    const a = await metricsServer("us-east", "us-east-a");
    cleanups.push(a.close);
    const collector = new OpsCollector({ roster: () => ({ live: [a.entry], gone: [] }), originMetrics });
    cleanups.push(() => collector.stop());
    await collector.collect();
    a.edits.inc({ result: "accepted" }, 500);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const snapshot = await collector.collect();
    const rate = snapshot.pops[0]!.replicas[0]!.figures!.acceptedPerSecond!;
    // 500 edits over the ~200 ms between the two reads.
    expect(rate).toBeGreaterThan(500);
    expect(rate).toBeLessThan(5000);
    expect(a.reads).toBe(2);
  });

  it("a replica whose /metrics cannot be read shows as unreachable with the reason, not as zero", async () => {
    const a = await metricsServer("us-east", "us-east-a");
    cleanups.push(a.close);
    const dead: EdgeEntry = { ...a.entry, replica: "us-east-b", httpUrl: await closedPort() };
    const collector = new OpsCollector({ roster: () => ({ live: [a.entry, dead], gone: [] }), originMetrics });
    cleanups.push(() => collector.stop());
    await collector.collect();
    const snapshot = await collector.collect();
    const b = snapshot.pops[0]!.replicas.find((replica) => replica.replica === "us-east-b")!;
    expect(b).toMatchObject({ state: "up", reachable: false });
    expect(b.error).toMatch(/fetch failed|ECONNREFUSED/);
    expect(b.figures).toBeUndefined();
    expect(snapshot.pops[0]!.acceptedPerSecond).toBe(0);
  });

  it("a gone replica is shown as gone and not asked for its metrics", async () => {
    const a = await metricsServer("eu-west", "eu-west-a");
    cleanups.push(a.close);
    const gone: GoneEdge = { ...a.entry, state: "gone", goneAt: Date.now() };
    const collector = new OpsCollector({ roster: () => ({ live: [], gone: [gone] }), originMetrics });
    cleanups.push(() => collector.stop());
    const snapshot = await collector.collect();
    expect(snapshot.pops[0]!.replicas).toMatchObject([{ replica: "eu-west-a", state: "gone", reachable: false }]);
    expect(a.reads).toBe(0);
  });

  it("an origin that hears no broker says it knows no edges", async () => {
    const collector = new OpsCollector({ roster: () => undefined, originMetrics });
    cleanups.push(() => collector.stop());
    const snapshot = await collector.collect();
    expect(snapshot.edgesKnown).toBe(false);
    expect(snapshot.pops).toEqual([]);
  });

  it("scrapes often while watched, seldom after, and not at all once the history window passed; history survives", async () => {
    const a = await metricsServer("us-east", "us-east-a");
    cleanups.push(a.close);
    const collector = new OpsCollector({
      roster: () => ({ live: [a.entry], gone: [] }),
      originMetrics,
      watchedIntervalMs: 50,
      idleIntervalMs: 300,
      historyMs: 1200,
    });
    cleanups.push(() => collector.stop());
    expect(collector.running).toBe(false);
    const seen: number[] = [];
    const unwatch = collector.watch((snapshot) => seen.push(snapshot.at));
    await new Promise((resolve) => setTimeout(resolve, 600));
    unwatch();
    const whileWatched = a.reads;
    expect(whileWatched).toBeGreaterThanOrEqual(5);
    expect(seen.length).toBe(whileWatched);
    await new Promise((resolve) => setTimeout(resolve, 600));
    const idle = a.reads - whileWatched;
    expect(idle).toBeGreaterThanOrEqual(1);
    expect(idle).toBeLessThanOrEqual(3);
    // Past the history window with nobody watching: asleep.
    await new Promise((resolve) => setTimeout(resolve, 1200));
    expect(collector.running).toBe(false);
    const asleep = a.reads;
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(a.reads).toBe(asleep);
    // A new watcher wakes it, and sees at once what history is left.
    const history = collector.history();
    expect(history.every((snapshot, i) => i === 0 || snapshot.at > history[i - 1]!.at)).toBe(true);
    collector.watch(() => {});
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(a.reads).toBeGreaterThan(asleep);
  });
});
