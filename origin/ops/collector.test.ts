import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Counter, Registry } from "prom-client";
import { afterEach, describe, expect, it, vi } from "vitest";
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
    // The collector's clock, not the machine's: the rate is then exact.
    let clock = 1_000_000;
    const collector = new OpsCollector({ roster: () => ({ live: [a.entry], gone: [] }), originMetrics, now: () => clock });
    cleanups.push(() => collector.stop());
    await collector.collect();
    a.edits.inc({ result: "accepted" }, 500);
    clock += 200;
    const snapshot = await collector.collect();
    // 500 edits over the 200 ms between the two reads.
    expect(snapshot.pops[0]!.replicas[0]!.figures!.acceptedPerSecond).toBe(2500);
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

  it("scrapes every watched interval while watched, every idle interval after, and not at all once the history window passed; history survives", async () => {
    // Fake timers and a fake clock make the schedule exact; the scrape reads
    // the registry in-process (HTTP is the first test's), so that no real
    // I/O runs behind the fake clock's back.
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
    cleanups.push(() => void vi.useRealTimers());
    const registry = new Registry();
    let reads = 0;
    const entry: EdgeEntry = { pop: "us-east", replica: "us-east-a", url: "ws://unused", httpUrl: "http://unused", state: "up", connections: 0, pages: 0, lastSeen: Date.now() };
    const collector = new OpsCollector({
      roster: () => ({ live: [entry], gone: [] }),
      originMetrics,
      fetchText: async () => {
        reads += 1;
        return registry.metrics();
      },
      watchedIntervalMs: 50,
      idleIntervalMs: 300,
      historyMs: 1200,
    });
    cleanups.push(() => collector.stop());
    expect(collector.running).toBe(false);
    const seen: number[] = [];
    const unwatch = collector.watch((snapshot) => seen.push(snapshot.at));
    // Rounds at 0, 50, ..., 550 ms.
    await vi.advanceTimersByTimeAsync(599);
    unwatch();
    expect(reads).toBe(12);
    expect(seen.length).toBe(12);
    // Nobody watching: the next round comes at the idle interval (600), then every 300 ms.
    await vi.advanceTimersByTimeAsync(600);
    expect(reads).toBe(12 + 2);
    // Past the history window (1200 ms after the last watcher left) with nobody watching: asleep.
    await vi.advanceTimersByTimeAsync(1200);
    expect(collector.running).toBe(false);
    const asleep = reads;
    // What history is left (the idle rounds of the last 1200 ms), oldest first, survives the sleep.
    const history = collector.history();
    expect(history.length).toBeGreaterThan(0);
    expect(history.every((snapshot, i) => i === 0 || snapshot.at > history[i - 1]!.at)).toBe(true);
    await vi.advanceTimersByTimeAsync(500);
    expect(reads).toBe(asleep);
    // A new watcher wakes it at once.
    collector.watch(() => {});
    await vi.advanceTimersByTimeAsync(0);
    expect(reads).toBe(asleep + 1);
  });
});
