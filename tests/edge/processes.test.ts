import { randomBytes } from "node:crypto";
import { originText as committedText } from "../support/origin-text";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Broker } from "../../broker/broker";
import { connectNats } from "../../broker/nats";
import { natsAnswers, TEST_NATS_URL } from "../support/test-nats";
import { encodeEnvelope } from "../../protocol/envelope";
import { subjects } from "../../protocol/subjects";
import { ProtocolEditor } from "../../e2e/load/protocol-editor";
import { serveOrigin } from "../../origin/http/node-adapter";
import { eventually } from "../support/cluster";
import { testDatabases } from "../support/databases";
import { type EdgeProcess, spawnEdge } from "../support/edge-process";
import { startTestOrigin, type TestOrigin } from "../support/origin";

const hasNats = await natsAnswers();
// Real processes against the real Postgres when it answers (always in CI).
const database = testDatabases.at(-1)!;

describe.runIf(hasNats)(`edge processes over NATS, origin on ${database.name}`, () => {
  let origin: TestOrigin;
  let served: Awaited<ReturnType<typeof serveOrigin>>;
  let originBroker: Broker;
  const processes: EdgeProcess[] = [];
  const pop = `pop-${randomBytes(3).toString("hex")}`;
  let token: string;

  const edgeEnv = (replica: string, extra: Record<string, string> = {}) => ({
    EDGE_POP: pop,
    EDGE_REPLICA: replica,
    ORIGIN_URL: served.url,
    EDGE_SERVICE_SECRET: origin.serviceSecret,
    NATS_URL: TEST_NATS_URL,
    EDGE_DURABILITY: "pop",
    EDGE_HEARTBEAT_MS: "200",
    EDGE_MEMBER_EXPIRY_MS: "1000",
    EDGE_ANTI_ENTROPY_MS: "1000",
    ...extra,
  });

  async function start(replica: string, extra: Record<string, string> = {}): Promise<EdgeProcess> {
    const edge = await spawnEdge(edgeEnv(replica, extra));
    processes.push(edge);
    return edge;
  }

  const originText = async (slug: string) => (await committedText(origin, slug)) ?? "";

  beforeAll(async () => {
    origin = await startTestOrigin(database);
    served = await serveOrigin(origin);
    originBroker = await connectNats({ servers: TEST_NATS_URL, name: "test-origin" });
    origin.committed.add(({ pop: from, slugs }) =>
      originBroker.publish(subjects.pageChanged(), encodeEnvelope({ type: "page-changed", replica: "origin", pop: from, slugs })),
    );
    const response = await fetch(`${served.url}/api/auth/register`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "Catelyn", password: "the north remembers" }),
    });
    token = ((await response.json()) as { token: string }).token;
  });

  afterAll(async () => {
    for (const edge of processes) edge.kill("SIGKILL");
    await Promise.all(processes.map((edge) => edge.exited));
    await originBroker?.close();
    const nc = await connect({ servers: TEST_NATS_URL });
    await (await jetstreamManager(nc)).streams.delete(subjects.logStream(pop)).catch(() => {});
    await nc.close();
    await served?.close();
    await origin?.close();
  });

  it("at pop durability, SIGKILL of the writer's replica and then of every replica of the PoP loses no acknowledged edit", async () => {
    const slug = `Kill_${randomBytes(3).toString("hex")}`;
    // Flushes far apart: when the replicas die, the origin has none of it.
    const a = await start(`${pop}-a`, { EDGE_FLUSH_MS: "600000" });
    const b = await start(`${pop}-b`, { EDGE_FLUSH_MS: "600000" });
    const writer = ProtocolEditor.connect({ url: a.url, slug, token });
    await writer.synced;
    const markers: string[] = [];
    for (let i = 0; i < 100; i++) {
      const marker = `[k${i}]`;
      const ack = await writer.insert(writer.text.length, marker);
      expect(ack.durability).toBe("pop");
      markers.push(marker);
    }

    a.kill("SIGKILL");
    expect(await a.exited).toBe("SIGKILL");
    // The client moves to the PoP's other replica and keeps typing.
    const moved = ProtocolEditor.connect({ url: b.url, slug, token });
    await moved.synced;
    for (const marker of markers) expect(moved.text.toString()).toContain(marker);
    for (let i = 0; i < 20; i++) {
      const marker = `[m${i}]`;
      expect((await moved.insert(moved.text.length, marker)).durability).toBe("pop");
      markers.push(marker);
    }
    b.kill("SIGKILL");
    expect(await b.exited).toBe("SIGKILL");
    expect(await originText(slug)).toBe("");

    // A replica started after the whole PoP died replays the PoP's log.
    await start(`${pop}-c`, { EDGE_FLUSH_MS: "200" });
    const text = await eventually(() => originText(slug), (value) => markers.every((marker) => value.includes(marker)), 20_000);
    for (const marker of markers) expect(text.split(marker).length - 1).toBe(1);
    writer.terminate();
    moved.terminate();
  });

  it("on SIGTERM a replica flushes what it holds, exits 0, and tells its clients to reconnect elsewhere", async () => {
    const slug = `Term_${randomBytes(3).toString("hex")}`;
    const d = await start(`${pop}-d`, { EDGE_FLUSH_MS: "600000", EDGE_DURABILITY: "edge" });
    const writer = ProtocolEditor.connect({ url: d.url, slug, token });
    await writer.synced;
    for (let i = 0; i < 30; i++) await writer.insert(writer.text.length, `[t${i}]`);
    d.kill("SIGTERM");
    expect(await d.exited).toBe(0);
    const closed = await writer.closed;
    expect(closed.code).toBe(4000);
    const text = await originText(slug);
    for (let i = 0; i < 30; i++) expect(text).toContain(`[t${i}]`);
  });
});
