import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ProtocolEditor } from "../../e2e/load/protocol-editor";
import { createMemoryBus } from "../../broker/memory";
import { edgeConfigFromEnv } from "../../edge/config";
import { type RunningEdge, startEdge } from "../../edge/edge";
import { linkOriginToBroker } from "../../origin/broker-link";
import { originConfigFromEnv } from "../../origin/config";
import { openDatabase } from "../../origin/db";
import { serveOrigin } from "../../origin/http/node-adapter";
import { type Origin, startOrigin } from "../../origin/runtime";
import { createScratchDatabase } from "../../prisma/scratch-database";
import { eventually } from "../support/cluster";
import { TEST_PG_URL, testDatabases } from "../support/databases";
import { occurrences } from "../support/marker-writer";
import { originText } from "../support/origin-text";

/**
 * Two origin processes of one deployment behind the same Postgres, sharing
 * the signing keys (the guide's WEIRWOOD_DATA_DIR), each taking the flushes
 * of one PoP (as each region's edges would flush to the origin nearest
 * them): concurrent batches for the same page through both merge each edit
 * exactly once, and both origins read the same text.
 */
describe.runIf(testDatabases.some((kind) => kind.name === "postgres"))("two origins on one Postgres, each flushed by one PoP", () => {
  const pops = ["us-east", "eu-west"].map((pop) => `${pop}-${Math.random().toString(16).slice(2, 8)}`);
  const origins: Origin[] = [];
  const served: Awaited<ReturnType<typeof serveOrigin>>[] = [];
  const edges: RunningEdge[] = [];
  const bus = createMemoryBus();
  let dataDir: string;
  let dropDatabase: () => Promise<void>;
  let token: string;

  beforeAll(async () => {
    const scratch = await createScratchDatabase(TEST_PG_URL, "weirwood_two_origins");
    dropDatabase = scratch.drop;
    dataDir = await mkdtemp(path.join(tmpdir(), "weirwood-two-origins-"));
    for (let i = 0; i < 2; i++) {
      const config = originConfigFromEnv({ WEIRWOOD_DATA_DIR: dataDir, LOG_LEVEL: "silent", ORIGIN_REGISTRATIONS_PER_ADDRESS: "0", ORIGIN_SCRYPT_LOG_N: "14" });
      // Its own connection pool, as another process would have.
      const origin = await startOrigin(config, { database: await openDatabase({ kind: "postgres", url: scratch.url }), processMetrics: false });
      origins.push(origin);
      served.push(await serveOrigin(origin));
      linkOriginToBroker(origin, bus.connect(`origin-${i}`));
    }
    expect(origins[1]!.serviceSecret).toBe(origins[0]!.serviceSecret);
    for (const [p, pop] of pops.entries()) {
      for (const letter of ["a", "b"]) {
        const replica = `${pop}-${letter}`;
        const config = edgeConfigFromEnv({
          EDGE_POP: pop,
          EDGE_REPLICA: replica,
          ORIGIN_URL: served[p]!.url,
          EDGE_DURABILITY: "edge",
          EDGE_FLUSH_MS: "200",
          EDGE_HEARTBEAT_MS: "200",
          EDGE_MEMBER_EXPIRY_MS: "1000",
          EDGE_ANTI_ENTROPY_MS: "1000",
          EDGE_RATE_LIMIT: "off",
          LOG_LEVEL: "silent",
        });
        edges.push(await startEdge(config, { broker: bus.connect(replica), serviceSecret: origins[p]!.serviceSecret }));
      }
    }
    // Registered through one origin, verified by the edges of both: the keys are shared.
    const response = await fetch(`${served[0]!.url}/api/auth/register`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "Samwell", password: "maester of the citadel" }),
    });
    token = ((await response.json()) as { token: string }).token;
  });

  afterAll(async () => {
    await Promise.allSettled(edges.map((edge) => edge.close()));
    await Promise.allSettled(served.map((server) => server.close()));
    await Promise.allSettled(origins.map((origin) => origin.close()));
    await dropDatabase?.();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it("concurrent batches of one page through both origins merge every acknowledged edit exactly once", async () => {
    const slug = `Two_origins_${Math.random().toString(16).slice(2, 8)}`;
    const editors = edges.map((edge) => ProtocolEditor.connect({ url: edge.url, slug, token }));
    await Promise.all(editors.map((editor) => editor.synced));
    const markers: string[] = [];
    await Promise.all(
      editors.map(async (editor, e) => {
        for (let i = 0; i < 40; i++) {
          const marker = `[o${e}-${i}]`;
          await editor.insert(editor.text.length, marker);
          markers.push(marker);
        }
      }),
    );
    for (const origin of origins) {
      const text = await eventually(async () => (await originText(origin, slug)) ?? "", (value) => markers.every((marker) => value.includes(marker)), 30_000);
      for (const marker of markers) expect(occurrences(text, marker), marker).toBe(1);
    }
    // Both origins took batches of the page: the race was run, not avoided.
    for (const origin of origins) {
      const merged = (await origin.metrics.batches.get()).values.find((value) => value.labels.result === "merged")?.value ?? 0;
      expect(merged).toBeGreaterThan(0);
    }
    for (const editor of editors) editor.terminate();
  }, 90_000);
});
