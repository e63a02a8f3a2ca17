import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningEdge } from "../../edge/edge";
import { CloseCode } from "../../protocol/close-codes";
import { type Cluster, eventually, startCluster } from "../support/cluster";
import { testDatabases } from "../support/databases";
import { RawClient } from "../support/raw-client";

// Short enough for a test; the default is y-protocols' 30 s. Stock clients
// renew every 15 s, so below that a server would remove live ones: only
// raw clients and protocol editors without presence are used here.
const TIMEOUT_MS = 1500;
const RATE = 5;
const BURST = 5;
const MAX_STATE_BYTES = 1024;

const slugOf = (name: string) => `${name}_${Math.random().toString(36).slice(2, 8)}`;

async function presenceCount(edge: RunningEdge, result: "applied" | "deferred" | "superseded"): Promise<number> {
  return (await edge.replica.metrics.awarenessUpdates.get()).values.find((value) => value.labels.result === result)?.value ?? 0;
}

/** Sends `state` (a renewal every 200 ms) until every observer holds it. */
async function announceUntilSeen(client: RawClient, id: number, state: unknown, observers: RawClient[]): Promise<void> {
  let clock = 0;
  client.sendAwareness(id, ++clock, state);
  const renew = setInterval(() => client.sendAwareness(id, ++clock, state), 200);
  try {
    await eventually(() => observers.every((observer) => observer.awareness.getStates().has(id)), Boolean, 10_000);
  } finally {
    clearInterval(renew);
  }
}

describe("presence when a client leaves", () => {
  // A timeout far beyond the test's waits: only the close can remove a cursor here.
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster({ database: testDatabases[0]!, broker: "memory", env: { EDGE_AWARENESS_TIMEOUT_MS: "3600000" } });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it.each(["closes cleanly", "drops its connection without a close"] as const)(
    "an editor's cursor disappears from the others, on its replica and another PoP, at once when it %s",
    async (how) => {
      const slug = slugOf("Twins");
      const token = await cluster.token(`Roslin${how.length}`);
      const [east, west] = cluster.pops.map((pop) => cluster.edgesOf(pop)[0]!) as [RunningEdge, RunningEdge];
      const near = await RawClient.connect({ url: east.url, slug, token });
      const far = await RawClient.connect({ url: west.url, slug, token });
      const leaving = await RawClient.connect({ url: east.url, slug, token });
      await announceUntilSeen(leaving, 7001, { user: { name: "Robb" }, cursor: 3 }, [near, far]);
      if (how === "closes cleanly") await leaving.close();
      else leaving.terminate();
      for (const observer of [near, far]) {
        const present = await eventually(() => observer.awareness.getStates().has(7001), (has) => !has, 5000);
        expect(present).toBe(false);
      }
      near.destroy();
      far.destroy();
      leaving.destroy();
    },
  );
});

describe("presence under a crowd: timeouts and limits", () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster({
      database: testDatabases[0]!,
      broker: "memory",
      env: {
        EDGE_AWARENESS_TIMEOUT_MS: String(TIMEOUT_MS),
        EDGE_AWARENESS_RATE: String(RATE),
        EDGE_AWARENESS_BURST: String(BURST),
        EDGE_MAX_AWARENESS_BYTES: String(MAX_STATE_BYTES),
      },
    });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it("a client that stops renewing without closing is removed after the timeout, on every replica and PoP", async () => {
    const slug = slugOf("Riverlands");
    const token = await cluster.token("Catelyn");
    const [east, west] = cluster.pops.map((pop) => cluster.edgesOf(pop)[0]!) as [RunningEdge, RunningEdge];
    const near = await RawClient.connect({ url: east.url, slug, token });
    const far = await RawClient.connect({ url: west.url, slug, token });
    const silent = await RawClient.connect({ url: east.url, slug, token });
    // Renewed until both observers see it: the timeout is short, and a state seen late could already be gone.
    await announceUntilSeen(silent, 7002, { user: { name: "Talisa" }, cursor: 1 }, [near, far]);
    // Still connected, never renewing, and not reading either: a frozen tab.
    silent.pause();
    // A barrier, not a sleep: a state sent after the pause has reached both
    // observers, and the silent client is still there then (its socket is open).
    const witness = await RawClient.connect({ url: east.url, slug, token });
    const seenAt = [near, far].map((observer) => new Promise<boolean>((resolve) => {
      const check = () => {
        if (!observer.awareness.getStates().has(7012)) return;
        observer.awareness.off("change", check);
        resolve(observer.awareness.getStates().has(7002));
      };
      observer.awareness.on("change", check);
    }));
    await announceUntilSeen(witness, 7012, { user: { name: "Edmure" } }, [near, far]);
    expect(await Promise.all(seenAt)).toEqual([true, true]);
    // Then the timeout removes it (the witness does not renew either: it goes too).
    for (const observer of [near, far]) {
      const present = await eventually(() => observer.awareness.getStates().has(7002), (has) => !has, 10_000);
      expect(present).toBe(false);
    }
    witness.destroy();
    silent.destroy();
    near.destroy();
    far.destroy();
  });

  it("a client over the awareness rate has its updates held and merged to the newest: fewer states go out, the last one always", async () => {
    const slug = slugOf("Oldtown");
    const token = await cluster.token("Sam");
    const edge = cluster.edges[0]!;
    const observer = await RawClient.connect({ url: edge.url, slug, token });
    const sender = await RawClient.connect({ url: edge.url, slug, token });
    const cursors = new Set<number>();
    observer.awareness.on("change", () => {
      const cursor = (observer.awareness.getStates().get(7003) as { cursor?: number } | undefined)?.cursor;
      if (cursor !== undefined) cursors.add(cursor);
    });
    const deferredBefore = await presenceCount(edge, "deferred");
    const supersededBefore = await presenceCount(edge, "superseded");
    // All at once: the bucket holds BURST, the rest must be held and merged.
    const sent = 60;
    for (let i = 1; i <= sent; i++) sender.sendAwareness(7003, i, { cursor: i });
    const last = await eventually(
      () => (observer.awareness.getStates().get(7003) as { cursor?: number } | undefined)?.cursor,
      (cursor) => cursor === sent,
      5000,
    );
    expect(last).toBe(sent);
    // Fewer went out than were sent (how few is the rate's, a benchmark's question).
    expect(cursors.size).toBeLessThan(sent);
    expect(await presenceCount(edge, "deferred")).toBeGreaterThan(deferredBefore);
    expect(await presenceCount(edge, "superseded")).toBeGreaterThan(supersededBefore);
    // Throttled, not punished: the connection stays open.
    sender.sendAwareness(7003, sent + 1, { cursor: -1 });
    await eventually(() => (observer.awareness.getStates().get(7003) as { cursor?: number } | undefined)?.cursor, (cursor) => cursor === -1, 5000);
    observer.destroy();
    sender.destroy();
  });

  it("a presence state over the size limit closes its connection with 4431 and a reason, and reaches nobody", async () => {
    const slug = slugOf("Dragonstone");
    const token = await cluster.token("Stannis");
    const edge = cluster.edges[0]!;
    const observer = await RawClient.connect({ url: edge.url, slug, token });
    const sender = await RawClient.connect({ url: edge.url, slug, token });
    sender.sendAwareness(7004, 1, { user: { name: "Melisandre" }, note: "n".repeat(MAX_STATE_BYTES / 2) });
    await eventually(() => observer.awareness.getStates().has(7004), Boolean, 5000);
    sender.sendAwareness(7004, 2, { user: { name: "Melisandre" }, note: "n".repeat(MAX_STATE_BYTES) });
    const closed = await sender.closed;
    expect(closed.code).toBe(CloseCode.presenceTooLarge);
    expect(closed.reason).toMatch(/awareness state of client 7004 is \d+ bytes, over the limit of 1024/);
    // The big state never went out; the closed client's presence is removed.
    const present = await eventually(() => observer.awareness.getStates().has(7004), (has) => !has, 5000);
    expect(present).toBe(false);
    // y-protocols removes a remote state at its last clock: the big one (clock 2) was never applied.
    expect(observer.awareness.meta.get(7004)?.clock).toBe(1);
    observer.destroy();
    sender.destroy();
  });
});
