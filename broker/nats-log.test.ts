import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DiscardPolicy, jetstream, jetstreamManager, type JetStreamManager, StorageType } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Broker, BrokerError } from "./broker";
import { connectNats } from "./nats";
import { openJetStreamLog } from "./nats-log";
import { type PrivateNats, startPrivateNats } from "../tests/support/nats-server";
import { natsAnswers, TEST_NATS_URL } from "../tests/support/test-nats";

const natsAvailable = await natsAnswers();

/**
 * ensureStream against the real server (NATS 2.9, single node): an existing
 * stream is brought to the declared replicas and bounds, or the log refuses
 * to open saying why; a full stream refuses appends and keeps its entries.
 */
describe.skipIf(!natsAvailable)("the PoP log's stream, configured as declared", () => {
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  const namespace = `wwtest_${randomBytes(6).toString("hex")}`;
  let streams = 0;
  const nextName = () => `${namespace}_${++streams}`;
  const subjectsOf = (name: string) => `${name}.log.>`;
  const open = (name: string, overrides: { replicas?: number; maxBytes?: number; maxAgeMs?: number; subjects?: string } = {}) =>
    openJetStreamLog({
      js: jetstream(nc),
      jsm,
      name,
      subjects: overrides.subjects ?? subjectsOf(name),
      replicas: overrides.replicas ?? 1,
      limits: { maxBytes: overrides.maxBytes ?? 1024 * 1024, maxAgeMs: overrides.maxAgeMs ?? 3600_000 },
      server: TEST_NATS_URL,
      track: () => () => {},
    });
  /** A stream as an older edge created it: R1, no bounds, discard old. */
  const createOld = (name: string) =>
    jsm.streams.add({ name, subjects: [subjectsOf(name)], storage: StorageType.File, num_replicas: 1 });

  beforeAll(async () => {
    nc = await connect({ servers: TEST_NATS_URL });
    jsm = await jetstreamManager(nc);
  });
  afterAll(async () => {
    if (!jsm) return;
    for await (const stream of jsm.streams.names()) if (stream.startsWith(namespace)) await jsm.streams.delete(stream);
    await nc.close();
  });

  it("creates a new stream bounded by size and age, discarding new", async () => {
    const name = nextName();
    await open(name, { maxBytes: 65536, maxAgeMs: 60_000 });
    const { config } = await jsm.streams.info(name);
    expect(config).toMatchObject({ num_replicas: 1, max_bytes: 65536, max_age: 60_000 * 1_000_000, discard: DiscardPolicy.New });
  });

  it("brings an existing unbounded stream to the configured bounds and discard policy, keeping its entries", async () => {
    const name = nextName();
    await createOld(name);
    const js = jetstream(nc);
    await js.publish(`${name}.log.a`, new Uint8Array([1, 2, 3]));
    const log = await open(name, { maxBytes: 200_000, maxAgeMs: 120_000 });
    const { config, state } = await jsm.streams.info(name);
    expect(config).toMatchObject({ max_bytes: 200_000, max_age: 120_000 * 1_000_000, discard: DiscardPolicy.New });
    expect(state.messages).toBe(1);
    expect((await log.readAll()).map((entry) => [...entry.data])).toEqual([[1, 2, 3]]);
  });

  it("refuses to open when the replicas asked for cannot be had on this server, saying why", async () => {
    const name = nextName();
    await createOld(name);
    const failure = await open(name, { replicas: 3 }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(BrokerError);
    expect((failure as Error).message).toContain("replicas 1 -> 3");
    expect((failure as Error).message).toContain("EDGE_LOG_REPLICAS");
    // Nothing was changed on the way.
    expect((await jsm.streams.info(name)).config.num_replicas).toBe(1);
  });

  it("refuses a stream of the same name that captures other subjects", async () => {
    const name = nextName();
    await createOld(name);
    const failure = await open(name, { subjects: `${name}.other.>` }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(BrokerError);
    expect((failure as Error).message).toContain(`captures [${subjectsOf(name)}]`);
  });

  it("refuses to lower the size bound below what the stream holds, which would drop entries", async () => {
    const name = nextName();
    const log = await open(name, { maxBytes: 1024 * 1024 });
    for (let i = 0; i < 20; i++) await log.append(`${name}.log.p`, new Uint8Array(1000));
    const failure = await open(name, { maxBytes: 4096 }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(BrokerError);
    expect((failure as Error).message).toContain("EDGE_LOG_MAX_BYTES");
    expect(await log.entryCount()).toBe(20);
  });

  it("at its bound refuses appends with a clear error and discards nothing", async () => {
    const name = nextName();
    const log = await open(name, { maxBytes: 16 * 1024 });
    let appended = 0;
    let refusal: unknown;
    for (let i = 0; i < 100 && refusal === undefined; i++) {
      try {
        await log.append(`${name}.log.p${i % 3}`, new Uint8Array(1000).fill(i));
        appended += 1;
      } catch (error) {
        refusal = error;
      }
    }
    expect(refusal).toBeInstanceOf(BrokerError);
    expect((refusal as Error).message).toMatch(/full at its bound.*refused/);
    expect(appended).toBeGreaterThan(5);
    // Every accepted entry is still there, the first one included.
    const entries = await log.readAll();
    expect(entries.length).toBe(appended);
    expect(entries[0]!.sequence).toBe(1n);
    expect(entries.map((entry) => entry.data[0])).toEqual(Array.from({ length: appended }, (_, i) => i));
  });
});

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address !== null ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

const NATS_SERVER = "/usr/sbin/nats-server";

/** Raising EDGE_LOG_REPLICAS on a running deployment: a three-server JetStream cluster of our own, on free ports. */
describe.skipIf(!existsSync(NATS_SERVER))("the PoP log's stream on a NATS cluster", () => {
  const servers: ChildProcess[] = [];
  const dirs: string[] = [];
  let urls: string[] = [];
  let nc: NatsConnection | undefined;

  beforeAll(async () => {
    const clientPorts = [await freePort(), await freePort(), await freePort()];
    const routePorts = [await freePort(), await freePort(), await freePort()];
    const routes = routePorts.map((port) => `nats://127.0.0.1:${port}`).join(",");
    for (let i = 0; i < 3; i++) {
      const dir = mkdtempSync(join(tmpdir(), "weirwood-nats-"));
      dirs.push(dir);
      const args = ["-a", "127.0.0.1", "-p", String(clientPorts[i]), "-js", "-sd", dir, "-n", `n${i + 1}`];
      args.push("--cluster_name", "c1", "-cluster", `nats://127.0.0.1:${routePorts[i]}`, "-routes", routes);
      servers.push(spawn(NATS_SERVER, args, { stdio: "ignore" }));
    }
    urls = clientPorts.map((port) => `nats://127.0.0.1:${port}`);
  }, 30_000);
  afterAll(async () => {
    await nc?.close().catch(() => {});
    for (const server of servers) server.kill("SIGKILL");
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it("brings an R1 stream to R3 when the replicas asked for are raised, keeping its entries", async () => {
    const deadline = Date.now() + 20_000;
    let manager: JetStreamManager | undefined;
    // The cluster elects its JetStream meta leader a few seconds after start.
    while (!manager) {
      try {
        nc ??= await connect({ servers: urls, timeout: 2000 });
        const candidate = await jetstreamManager(nc);
        await candidate.getAccountInfo();
        manager = candidate;
      } catch (error) {
        if (Date.now() > deadline) throw new Error(`the NATS cluster at ${urls.join(", ")} did not start JetStream`, { cause: error });
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
    const name = `wwtest_${randomBytes(6).toString("hex")}`;
    const open = async (replicas: number) => {
      for (;;) {
        try {
          return await openJetStreamLog({
            js: jetstream(nc!),
            jsm: manager,
            name,
            subjects: `${name}.log.>`,
            replicas,
            limits: { maxBytes: 1024 * 1024, maxAgeMs: 3600_000 },
            server: urls.join(", "),
            track: () => () => {},
          });
        } catch (error) {
          // Until the meta leader is elected, creating a stream fails: retry.
          if (replicas > 1 || Date.now() > deadline) throw error;
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
      }
    };
    const r1 = await open(1);
    await r1.append(`${name}.log.page`, new Uint8Array([7]));
    expect((await manager.streams.info(name)).config.num_replicas).toBe(1);

    const r3 = await open(3);
    expect((await manager.streams.info(name)).config.num_replicas).toBe(3);
    // Opening waited until the new servers were placed and the leader held
    // the entry: read at once, as a replica starting then would.
    const cluster = (await manager.streams.info(name)).cluster;
    expect(new Set([cluster?.leader, ...(cluster?.replicas ?? []).map((peer) => peer.name)].filter(Boolean)).size).toBe(3);
    expect((await r3.readAll()).map((entry) => [...entry.data])).toEqual([[7]]);
  }, 60_000);
});

/**
 * A replica rebuilds pages from readAll: a short read loses acknowledged
 * entries. A server that stalls mid-read (SIGSTOP: its connections stay up)
 * makes a fetch expire empty, which readAll once took for the end.
 */
describe.skipIf(!existsSync(NATS_SERVER))("the PoP log read whole while its server stalls", () => {
  let nats: PrivateNats;
  let broker: Broker;
  beforeAll(async () => {
    nats = await startPrivateNats();
    broker = await connectNats({ servers: nats.url, name: "stall-reader" });
  });
  afterAll(async () => {
    await broker?.close();
    await nats?.remove();
  });

  it("returns every entry up to the newest, however long a fetch waits", async () => {
    const log = await broker.durableLog("stall", "stall.log.>");
    const count = 3000;
    for (let i = 0; i < count; i += 100) {
      await Promise.all(Array.from({ length: 100 }, (_, j) => log.append(`stall.log.p${(i + j) % 7}`, new Uint8Array(200).fill((i + j) % 256))));
    }
    for (const pauseAfterMs of [0, 10, 25, 50, 100]) {
      const read = log.readAll();
      await new Promise((resolve) => setTimeout(resolve, pauseAfterMs));
      await nats.pause(2500);
      const entries = await read;
      expect(entries.length, `stalled ${pauseAfterMs} ms into the read`).toBe(count);
      expect(entries.at(-1)!.sequence).toBe(BigInt(count));
    }
  }, 60_000);
});
