import { randomBytes } from "node:crypto";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import type { Broker } from "../../broker/broker";
import { createMemoryBus, type MemoryBus } from "../../broker/memory";
import { connectNats } from "../../broker/nats";
import { startTcpLink, type TcpLink } from "./tcp-link";
import { TEST_NATS_URL } from "./test-nats";
import { edgeConfigFromEnv } from "../../edge/config";
import { type RunningEdge, startEdge } from "../../edge/edge";
import type { DurabilityLevel } from "../../protocol/messages";
import { subjects } from "../../protocol/subjects";
import { linkOriginToBroker } from "../../origin/broker-link";
import { serveOrigin } from "../../origin/http/node-adapter";
import { ProtocolEditor } from "../../e2e/load/protocol-editor";
import type { TestDatabaseKind } from "./databases";
import { startTestOrigin, type TestOrigin } from "./origin";

export interface ClusterOptions {
  database: TestDatabaseKind;
  /**
   * "memory" shares one in-process bus; `{ nats }` connects every replica to
   * that NATS through a TCP link of its own, which cutBroker cuts; a factory
   * is used as it is (no cutBroker).
   */
  broker: "memory" | { nats: string } | ((name: string) => Promise<Broker>);
  pops?: string[];
  replicasPerPop?: number;
  durability?: DurabilityLevel;
  flushMs?: number;
  env?: Record<string, string>;
}

export interface Cluster {
  origin: TestOrigin;
  originUrl: string;
  /** The PoP names, made unique per cluster so that clusters never share broker subjects. */
  pops: string[];
  edges: RunningEdge[];
  bus: MemoryBus | undefined;
  edgesOf(pop: string): RunningEdge[];
  /** Registers a user and answers an edge token for it. */
  token(name: string, role?: "editor" | "admin" | "reader"): Promise<string>;
  editor(edge: RunningEdge, slug: string, token: string): ProtocolEditor;
  /** Stops the origin's HTTP server (the database stays): the origin is down. */
  stopOriginServer(): Promise<void>;
  /** Starts one more replica in `pop`. */
  addReplica(pop: string, env?: Record<string, string>): Promise<RunningEdge>;
  /** The broker connection a replica was started with: what `bus.disconnect` and `bus.reconnect` take. */
  brokerOf(edge: RunningEdge): Broker;
  /**
   * Cuts a replica off the broker, as a network fault would: the in-process
   * bus disconnects it; with NATS its TCP link drops the connection and
   * refuses new ones, and the client keeps dialing until restoreBroker.
   */
  cutBroker(edge: RunningEdge): void;
  restoreBroker(edge: RunningEdge): void;
  stop(): Promise<void>;
}

/**
 * A whole Weirwood on 127.0.0.1 for integration tests: the real origin (its
 * HTTP API on a plain node server, over PGlite or Postgres) and real edge
 * replicas of several PoPs over a real broker, each edge on its own port.
 */
export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const suffix = randomBytes(3).toString("hex");
  const pops = (options.pops ?? ["us-east", "eu-west"]).map((pop) => `${pop}-${suffix}`);
  const bus = options.broker === "memory" ? createMemoryBus() : undefined;
  const brokers: Broker[] = [];
  const links = new Map<Broker, TcpLink>();
  const connectBroker = async (name: string) => {
    let broker: Broker;
    if (bus) broker = bus.connect(name);
    else if (typeof options.broker === "function") broker = await options.broker(name);
    else {
      const target = new URL((options.broker as { nats: string }).nats);
      const link = await startTcpLink({ host: target.hostname, port: Number(target.port || 4222) });
      // Redials every 100 ms, so that a restored link is used at once.
      broker = await connectNats({ servers: `nats://127.0.0.1:${link.port}`, name, reconnectWaitMs: 100 });
      links.set(broker, link);
    }
    brokers.push(broker);
    return broker;
  };
  const linkOf = (broker: Broker) => {
    const link = links.get(broker);
    if (!link) throw new Error("cluster: cutBroker needs the memory broker or { nats } (a broker factory has no link to cut)");
    return link;
  };
  const origin = await startTestOrigin(options.database);
  const served = await serveOrigin(origin);
  linkOriginToBroker(origin, await connectBroker("origin"));
  const edges: RunningEdge[] = [];
  const edgeBrokers = new Map<RunningEdge, Broker>();
  let counter = 0;

  async function addReplica(pop: string, env: Record<string, string> = {}): Promise<RunningEdge> {
    const replica = `${pop}-${String.fromCharCode(97 + counter++)}`;
    const config = edgeConfigFromEnv({
      EDGE_POP: pop,
      EDGE_REPLICA: replica,
      ORIGIN_URL: served.url,
      EDGE_DURABILITY: options.durability ?? "edge",
      EDGE_FLUSH_MS: String(options.flushMs ?? 300),
      EDGE_HEARTBEAT_MS: "200",
      EDGE_MEMBER_EXPIRY_MS: "1000",
      EDGE_ANTI_ENTROPY_MS: "1000",
      LOG_LEVEL: process.env.EDGE_TEST_LOG_LEVEL ?? "silent",
      ...options.env,
      ...env,
    });
    const broker = await connectBroker(replica);
    const edge = await startEdge(config, { broker, serviceSecret: origin.serviceSecret });
    edges.push(edge);
    edgeBrokers.set(edge, broker);
    return edge;
  }

  function brokerOf(edge: RunningEdge): Broker {
    const broker = edgeBrokers.get(edge);
    if (!broker) throw new Error(`cluster: ${edge.replica.replica} was not started by this cluster`);
    return broker;
  }

  for (const pop of pops) {
    for (let i = 0; i < (options.replicasPerPop ?? 2); i++) await addReplica(pop);
  }
  // Every replica has heard every other of its PoP, so that page ownership
  // is settled before the test types.
  const knowsItsPop = (edge: RunningEdge) => {
    const known = new Set(edge.replica.membership.list().map((member) => member.replica));
    return edges.every((other) => other.replica.pop !== edge.replica.pop || known.has(other.replica.replica));
  };
  await eventually(() => edges.every(knowsItsPop), Boolean, 10_000);

  return {
    origin,
    originUrl: served.url,
    pops,
    edges,
    bus,
    edgesOf: (pop) => edges.filter((edge) => edge.replica.pop === pop),
    async token(name, role = "editor") {
      const response = await fetch(`${served.url}/api/auth/register`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ name, password: "correct horse battery" }),
      });
      const body = (await response.json()) as { token: string; user: { id: string } };
      if (!response.ok) throw new Error(`register ${name}: ${JSON.stringify(body)}`);
      if (role !== "editor") {
        await origin.db.prisma.user.update({ where: { id: body.user.id }, data: { role } });
        const login = await fetch(`${served.url}/api/auth/login`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ name, password: "correct horse battery" }),
        });
        return ((await login.json()) as { token: string }).token;
      }
      return body.token;
    },
    editor: (edge, slug, token) => ProtocolEditor.connect({ url: edge.url, slug, token }),
    addReplica,
    brokerOf,
    cutBroker(edge) {
      const broker = brokerOf(edge);
      if (bus) bus.disconnect(broker);
      else linkOf(broker).cut();
    },
    restoreBroker(edge) {
      const broker = brokerOf(edge);
      if (bus) bus.reconnect(broker);
      else linkOf(broker).restore();
    },
    stopOriginServer: () => served.close(),
    async stop() {
      await Promise.allSettled(edges.map((edge) => edge.close()));
      for (const link of links.values()) link.restore();
      await Promise.allSettled(brokers.map((broker) => broker.close()));
      await Promise.allSettled([...links.values()].map((link) => link.close()));
      if (!bus && options.durability === "pop") await deleteLogStreams(pops);
      await served.close().catch(() => {});
      await origin.close();
    },
  };
}

/** The PoPs' JetStream streams outlive the test's brokers: remove them. */
async function deleteLogStreams(pops: string[]): Promise<void> {
  const nc = await connect({ servers: TEST_NATS_URL });
  try {
    const jsm = await jetstreamManager(nc);
    for (const pop of pops) await jsm.streams.delete(subjects.logStream(pop)).catch(() => false);
  } finally {
    await nc.close();
  }
}

/**
 * Polls `check` until it holds and answers the value that passed it. A wait
 * that runs out throws, naming the condition and the last value seen: a
 * quiet return would let the caller's next line pass on a stale value.
 */
export async function eventually<T>(probe: () => Promise<T> | T, check: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await probe();
  while (!check(value)) {
    if (Date.now() > deadline) {
      throw new Error(`eventually: ${check.toString()} still false after ${timeoutMs} ms; last value ${describe(value)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
    value = await probe();
  }
  return value;
}

function describe(value: unknown): string {
  try {
    const text = JSON.stringify(value) ?? String(value);
    return text.length > 300 ? `${text.slice(0, 300)}...` : text;
  } catch {
    return String(value);
  }
}
