import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import * as Y from "yjs";
import { CloseCode } from "../../protocol/close-codes";
import { encodeMessage } from "../../protocol/messages";
import { type Cluster, startCluster } from "../support/cluster";
import { testDatabases } from "../support/databases";

const slugOf = (name: string) => `${name}_${Math.random().toString(36).slice(2, 8)}`;

/** A socket that counts what the edge answers and says how it closed. */
function open(cluster: Cluster, slug: string, token: string) {
  const socket = new WebSocket(`${cluster.edges[0]!.url}/${slug}?${new URLSearchParams({ token })}`);
  let answers = 0;
  socket.on("message", () => (answers += 1));
  socket.on("error", () => {});
  const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.on("close", (code, reason) => resolve({ code, reason: reason.toString() })));
  const opened = new Promise<void>((resolve, reject) => {
    socket.once("open", () => resolve());
    socket.once("error", reject);
  });
  return { socket, opened, closed, answers: () => answers };
}

/**
 * Reads cost the edge too: each sync step 1 is answered with an encoding of
 * the page, each awareness query with everyone's presence, and whatever a
 * client sends before its token is checked or while its page loads waits in
 * memory. Both are bounded (issue 18, item 6).
 */
describe("flooding reads", () => {
  let cluster: Cluster;
  let token: string;
  beforeAll(async () => {
    cluster = await startCluster({
      database: testDatabases[0]!,
      broker: "memory",
      pops: ["north"],
      replicasPerPop: 1,
      // The queue's default bound (512) holds the 100 asks below: only the read rate is tested here.
      env: { EDGE_READ_RATE: "2", EDGE_READ_BURST: "5", EDGE_FLOOD_CLOSE_MS: "300" },
    });
    token = await cluster.token("Hodor");
  });
  afterAll(() => cluster?.stop());

  it("a client that keeps asking for sync steps and presence is slowed down, then closed with a code stock clients reconnect on", async () => {
    const client = open(cluster, slugOf("Flood"), token);
    await client.opened;
    // The greeting first (the edge's sync step 1), so that the flood meets a loaded page.
    await new Promise<void>((resolve) => client.socket.once("message", () => resolve()));
    const ask = encodeMessage({ type: "sync-step-1", stateVector: Y.encodeStateVector(new Y.Doc()) });
    const query = encodeMessage({ type: "query-awareness" });
    for (let i = 0; i < 100; i++) client.socket.send(i % 2 === 0 ? ask : query);
    const { code, reason } = await client.closed;
    expect(code).toBe(CloseCode.rateLimited);
    expect(reason).toMatch(/over the read rate/);
    // Far fewer than the 100 asked for were answered: the burst, and what the rate refilled before the close.
    expect(client.answers()).toBeLessThan(50);
  });

  it("an honest client's one sync step and one query are answered as before", async () => {
    const client = open(cluster, slugOf("Honest"), token);
    await client.opened;
    client.socket.send(encodeMessage({ type: "sync-step-1", stateVector: Y.encodeStateVector(new Y.Doc()) }));
    client.socket.send(encodeMessage({ type: "query-awareness" }));
    // The edge's greeting (its sync step 1), the sync step 2 answer, the awareness answer.
    const deadline = Date.now() + 10_000;
    while (client.answers() < 3 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(client.answers()).toBeGreaterThanOrEqual(3);
    client.socket.close();
    expect((await client.closed).code).not.toBe(CloseCode.rateLimited);
  });
});

describe("queues before a page is ready", () => {
  let queued: Cluster;
  let queuedToken: string;
  beforeAll(async () => {
    queued = await startCluster({ database: testDatabases[0]!, broker: "memory", pops: ["north"], replicasPerPop: 1, env: { EDGE_MAX_QUEUED_MESSAGES: "8", EDGE_READ_BURST: "1000" } });
    queuedToken = await queued.token("Hodor");
  });
  afterAll(() => queued?.stop());

  it("what a client sends before its page is ready is bounded: past the queue limit it is closed, saying so", async () => {
    const client = open(queued, slugOf("Early"), queuedToken);
    await client.opened;
    // All at once, as soon as the socket opens: the token is still being checked, or the page loading.
    const update = encodeMessage({ type: "query-awareness" });
    for (let i = 0; i < 200; i++) client.socket.send(update);
    const { code, reason } = await client.closed;
    expect(code).toBe(CloseCode.rateLimited);
    // Never held back by the read rate here (a burst of 1,000): only the queue before the page is ready can close it.
    expect(reason).toMatch(/queued (before the token was checked|while the page loads), over the limit of 8/);
  });
});
