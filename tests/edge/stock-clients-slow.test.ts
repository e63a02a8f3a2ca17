import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { WebSocket } from "ws";
import type { RunningEdge } from "../../edge/edge";
import { CloseCode } from "../../protocol/close-codes";
import { type Cluster, startCluster } from "../support/cluster";
import { testDatabases } from "../support/databases";
import { stockClient, until } from "../support/stock-client";

const CHUNK = 80 * 1024;
// Up to 160 chunks, 12.8 MB, in rounds of 3.2 MB until the edge drops the
// reader: past the loopback kernel buffers (they took 3.2 MB without the
// edge holding a byte), so that the edge's own buffer for the reader passes
// its pause bound. The origin is kept out (no flush during the test): a
// batch that large is issue 17 part B's, and the origin's merge of MBs
// would outlast the stock client's own 30 s watchdog.
const CHUNKS = 160;
const ROUND = 40;

async function slowClientsClosed(edge: RunningEdge): Promise<number> {
  return (await edge.replica.metrics.slowClients.get()).values.find((value) => value.labels.event === "closed")?.value ?? 0;
}

/**
 * Issue 17: a stock client that stopped reading for 25 s while a co-editor
 * wrote 6 MB was closed with 4408, which y-websocket 3.x treats as
 * permanent: it never came back and held 4.3 MB of the 6. Dropped now with
 * 4508, it reconnects by itself and resyncs.
 */
describe("a stock y-websocket client that falls behind", () => {
  let cluster: Cluster;
  let strict: RunningEdge;
  beforeAll(async () => {
    // The co-editor writes up to 12.8 MB to one page, past the default page limit.
    cluster = await startCluster({
      database: testDatabases[0]!,
      broker: "memory",
      replicasPerPop: 1,
      flushMs: 600_000,
      env: { EDGE_MAX_PAGE_BYTES: String(64 * 1024 * 1024) },
    });
    // The reader's replica pauses a client at 64 KiB unread and drops it after a second paused.
    strict = await cluster.addReplica(cluster.pops[0]!, { EDGE_CLIENT_PAUSE_BYTES: String(64 * 1024), EDGE_CLIENT_BEHIND_MS: "1000" });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it("is dropped while a co-editor on the other PoP writes MBs, comes back by itself, and ends with all the text, connected", async () => {
    const slug = `Harrenhal_${Math.random().toString(36).slice(2, 8)}`;
    const writerEdge = cluster.edgesOf(cluster.pops[1]!)[0]!;
    const token = await cluster.token(`Hoster_${slug}`, "admin");
    const reader = stockClient(strict.url, slug, token);
    const writer = stockClient(writerEdge.url, slug, token);
    try {
      await until("both providers to sync", () => reader.connected && writer.connected, Boolean);
      // The reader stops reading: its kernel buffers fill, then the edge's.
      const socket = reader.provider.ws as unknown as WebSocket;
      socket.pause();
      const before = await slowClientsClosed(strict);
      const heldByReadersEdge = () => strict.replica.pages.get(slug)?.doc.getText("body").length ?? 0;
      for (let round = 0; round * ROUND < CHUNKS && (await slowClientsClosed(strict)) === before; round++) {
        writer.type(Array.from({ length: ROUND }, (_, i) => `<${round * ROUND + i}>${String.fromCharCode(97 + (i % 26)).repeat(CHUNK)}`));
        const written = writer.text().length;
        await until(`round ${round} at the reader's edge`, heldByReadersEdge, (length) => length === written);
      }
      await until("the edge to drop the reader for falling behind", () => slowClientsClosed(strict), (closed) => closed > before);
      socket.resume();

      // It reads what was in flight, then the close: 4508, which it reconnects on.
      await until("the reader to hear why it was dropped", () => reader.closes.map((close) => close.code), (codes) => codes.includes(CloseCode.tooSlow));
      await until("the reader to be connected again", () => reader.connected, Boolean);
      const expected = writer.text();
      expect(expected.length).toBeGreaterThan(ROUND * CHUNK);
      await until("the reader to hold the whole text", () => reader.text().length, (length) => length === expected.length);
      expect(reader.text()).toBe(expected);
      expect(writer.closes).toEqual([]);
    } finally {
      reader.destroy();
      writer.destroy();
    }
  });
});
