import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningEdge } from "../../edge/edge";
import { CloseCode } from "../../protocol/close-codes";
import { type Cluster, eventually, startCluster } from "../support/cluster";
import { testDatabases } from "../support/databases";
import { RawClient } from "../support/raw-client";

const PAUSE_BYTES = 256 * 1024;
// Each edit is one chunk of this size, so one fan-out message is about this big.
const CHUNK = 64 * 1024;
// Loopback kernel buffers take a few MB before the edge's own buffer grows:
// write far more than that, so that a slow client reaches the pause.
const CHUNKS = 240;

const slugOf = (name: string) => `${name}_${Math.random().toString(36).slice(2, 8)}`;

async function gauge(edge: RunningEdge, name: "pausedClientBufferedBytes" | "clientsBehind"): Promise<number> {
  return (await edge.replica.metrics[name].get()).values[0]?.value ?? 0;
}

async function counted(edge: RunningEdge, event: "paused" | "caught-up" | "closed"): Promise<number> {
  return (await edge.replica.metrics.slowClients.get()).values.find((value) => value.labels.event === event)?.value ?? 0;
}

/**
 * Samples the most bytes the edge holds for any paused client until `stop`
 * resolves; answers the largest seen. Not the total for all clients: on a
 * loaded machine a client that reads (the newcomer here) may fall behind
 * too, and the catch-up it then gets is one message of megabytes.
 */
async function peakBuffered(edge: RunningEdge, stop: Promise<unknown>): Promise<number> {
  let done = false;
  void stop.finally(() => (done = true));
  let peak = 0;
  while (!done) {
    peak = Math.max(peak, await gauge(edge, "pausedClientBufferedBytes"));
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return peak;
}

describe("a slow consumer at the edge", () => {
  let cluster: Cluster;
  let patient: RunningEdge;
  let strict: RunningEdge;
  beforeAll(async () => {
    // One PoP: one replica that waits for slow clients, one that gives up after a second.
    cluster = await startCluster({
      database: testDatabases[0]!,
      broker: "memory",
      pops: ["slow"],
      replicasPerPop: 0,
      flushMs: 60_000,
      env: {
        EDGE_RATE_LIMIT: "off",
        EDGE_CLIENT_PAUSE_BYTES: String(PAUSE_BYTES),
        EDGE_CLIENT_CLOSE_BYTES: String(8 * 1024 * 1024),
        // The flood writes 15 MiB to one page, far past the default page limit.
        EDGE_MAX_PAGE_BYTES: String(64 * 1024 * 1024),
      },
    });
    // The newcomer's presence is sent once and must outlive the flood: on a
    // loaded machine the test runs past the 30 s awareness timeout, and the
    // edge then rightly drops it (CI, 2026-12-04 15:10: 49 s).
    patient = await cluster.addReplica(cluster.pops[0]!, { EDGE_CLIENT_BEHIND_MS: "60000", EDGE_AWARENESS_TIMEOUT_MS: "600000" });
    strict = await cluster.addReplica(cluster.pops[0]!, { EDGE_CLIENT_BEHIND_MS: "1000" });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  async function flood(edge: RunningEdge, slug: string, token: string): Promise<string[]> {
    const writer = cluster.editor(edge, slug, token);
    await writer.synced;
    const markers: string[] = [];
    const acks = [];
    for (let i = 0; i < CHUNKS; i++) {
      const marker = `[chunk${i}]`;
      markers.push(marker);
      acks.push(writer.insert(writer.text.length, marker + "x".repeat(CHUNK - marker.length)));
      // Let the fan-out windows pass, so that the edge sends while the client is not reading.
      if (i % 8 === 7) await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await Promise.all(acks);
    await writer.close();
    return markers;
  }

  it("never holds more than the pause bound plus one message for it, and catches it up to the exact text when it reads again", async () => {
    const slug = slugOf("Hardhome");
    const token = await cluster.token("Tormund");
    const slow = await RawClient.connect({ url: patient.url, slug, token });
    const leaving = await RawClient.connect({ url: patient.url, slug, token });
    // Connected now: its sync answer later would be the whole, large page.
    const arriving = await RawClient.connect({ url: patient.url, slug, token });
    leaving.sendAwareness(8001, 1, { user: { name: "Karsi" } });
    await eventually(() => slow.awareness.getStates().has(8001), Boolean);
    slow.pause();
    // The other two do not read either: a client that reads but falls
    // behind on a loaded machine is caught up with one message as large as
    // what it missed, and pauses again holding it (CI, 2026-12-04).
    leaving.pause();
    arriving.pause();
    const pausedBefore = await counted(patient, "paused");

    const written = flood(patient, slug, token);
    const peaked = peakBuffered(patient, written);
    await eventually(() => counted(patient, "paused"), (count) => count > pausedBefore, 20_000);
    // Presence changes while it is paused: one editor leaves, another arrives.
    // Ended without a close handshake: it reads nothing, so it would never see the edge's answer.
    leaving.terminate();
    arriving.sendAwareness(8002, 1, { user: { name: "Wun Wun" } });
    const peak = await peaked;
    const markers = await written;
    expect(await counted(patient, "paused")).toBeGreaterThan(pausedBefore);
    // The two that do not read stay behind (the leaving one closed).
    expect(await eventually(() => gauge(patient, "clientsBehind"), (behind) => behind === 2, 20_000)).toBe(2);
    // ws counts a frame's header too: allow a few bytes per message beyond the payloads.
    expect(peak).toBeLessThanOrEqual(PAUSE_BYTES + CHUNK + 1024);

    slow.resume();
    const page = patient.replica.pages.get(slug)!;
    const text = await eventually(() => slow.text.toString(), (value) => value === page.doc.getText("body").toString(), 20_000);
    expect(text).toBe(page.doc.getText("body").toString());
    for (const marker of markers) expect(text.split(marker).length - 1).toBe(1);
    expect(await counted(patient, "caught-up")).toBeGreaterThan(0);
    // The catch-up carried the presence too: the newcomer, and the departure.
    expect(await eventually(() => slow.awareness.getStates().has(8002), Boolean, 5000)).toBe(true);
    expect(slow.awareness.getStates().has(8001)).toBe(false);
    slow.destroy();
    leaving.destroy();
    arriving.destroy();
  });

  it("closes a client that stays behind past the bound with 4508 (tooSlow) and a reason", async () => {
    const slug = slugOf("Castle_Black");
    const token = await cluster.token("Edd");
    const slow = await RawClient.connect({ url: strict.url, slug, token });
    await eventually(() => slow.received.updates, (updates) => updates > 0);
    slow.pause();
    const written = flood(strict, slug, token);
    const peaked = peakBuffered(strict, written);
    const closedCount = await eventually(() => counted(strict, "closed"), (count) => count > 0, 60_000);
    expect(closedCount).toBeGreaterThan(0);
    // The close frame waits behind what the socket held: read it all, now.
    // Reading only once the whole flood is written would come after ws's own
    // 30 s close timeout on a loaded machine, which ends the socket with 1006.
    slow.resume();
    const closed = await slow.closed;
    expect(await peaked).toBeLessThanOrEqual(PAUSE_BYTES + CHUNK + 1024);
    await written;
    expect(closed.code).toBe(CloseCode.tooSlow);
    expect(closed.reason).toMatch(/behind for over 1000 ms .*reconnect/);
    slow.destroy();
  });
});
