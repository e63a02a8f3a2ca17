import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import type { Broker } from "../../broker/broker";
import { connectNats } from "../../broker/nats";
import { encodeEnvelope } from "../../protocol/envelope";
import type { DurabilityLevel } from "../../protocol/messages";
import { subjects } from "../../protocol/subjects";
import { openDatabase } from "../../origin/db";
import { createScratchDatabase } from "../../prisma/scratch-database";
import { serveOrigin } from "../../origin/http/node-adapter";
import { originConfigFromEnv } from "../../origin/config";
import { type Origin, startOrigin } from "../../origin/runtime";
import { type EdgeProcess, spawnEdge } from "../../tests/support/edge-process";
import type { EdgeTarget } from "./load-plan";
import { currentTexts } from "../../origin/pages";

/**
 * A whole self-hosted Weirwood on 127.0.0.1 for the benchmarks: an origin
 * (its HTTP API on a plain node server, no Next.js) over a scratch Postgres
 * database that is dropped afterwards, announcing its commits over NATS, and
 * PoPs of edge replicas as real `edge/main.ts` processes over NATS.
 */
export interface BenchSystem {
  origin: Origin;
  originUrl: string;
  databaseLabel: string;
  /** Registers `count` users; answers their edge tokens. */
  register(count: number): Promise<string[]>;
  startPops(options: PopOptions): Promise<RunningPops>;
  /** Text of each page at the origin (empty when the page does not exist). */
  originTexts(slugs: readonly string[]): Promise<Map<string, string>>;
  /** Origin transactions of these PoPs' replicas: rows of the Batch table. */
  batches(pops: readonly string[]): Promise<{ edge: string; receivedAt: Date; editCount: number }[]>;
  close(): Promise<void>;
}

export interface PopOptions {
  pops: string[];
  replicasPerPop: number;
  durability: DurabilityLevel;
  flushMs: number;
  env?: Record<string, string>;
}

export interface RunningPops {
  pops: string[];
  edges: (EdgeProcess & { pop: string })[];
  targets: EdgeTarget[];
  /** SIGTERM, then waits for each exit (SIGKILL after `timeoutMs`); answers how each ended. */
  stop(timeoutMs?: number): Promise<{ replica: string; exit: number | string }[]>;
  /** Warnings and errors the replicas logged. */
  problems(): string[];
  /** Replicas that exited before stop() was called: crashes. */
  crashes(): { replica: string; exit: number | string; at: string }[];
}

export async function startBenchSystem(options: { pgUrl: string; natsUrl: string }): Promise<BenchSystem> {
  const cleanups: (() => Promise<unknown>)[] = [];
  const cleanup = async () => {
    for (const step of cleanups.reverse()) await step().catch((error: unknown) => console.error(`cleanup: ${(error as Error).message}`));
  };
  try {
    const scratch = await createScratchDatabase(options.pgUrl, "weirwood_bench");
    cleanups.push(scratch.drop);
    const database = await openDatabase({ kind: "postgres", url: scratch.url });
    const dataDir = await mkdtemp(path.join(tmpdir(), "weirwood-bench-"));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const origin = await startOrigin(originConfigFromEnv({ WEIRWOOD_DATA_DIR: dataDir, LOG_LEVEL: "warn", ORIGIN_REGISTRATIONS_PER_ADDRESS: "0" }), { database });
    cleanups.push(() => origin.close());
    const served = await serveOrigin(origin);
    cleanups.push(() => served.close());
    const originBroker: Broker = await connectNats({ servers: options.natsUrl, name: "bench-origin" });
    cleanups.push(() => originBroker.close());
    // What the hosting process does in production: after each commit, tell
    // the other PoPs which pages changed (DESIGN.md, "Flush").
    origin.committed.add(({ pop, slugs }) => {
      originBroker.publish(subjects.pageChanged(), encodeEnvelope({ type: "page-changed", replica: "origin", pop, slugs }));
    });
    const prisma = origin.db.prisma;
    let users = 0;

    return {
      origin,
      originUrl: served.url,
      databaseLabel: `Postgres ${new URL(scratch.url).host} (scratch database ${scratch.name})`,
      async register(count) {
        const tokens: string[] = [];
        for (let i = 0; i < count; i++) {
          const response = await fetch(`${served.url}/api/auth/register`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ name: `Bench_editor_${++users}`, password: "correct horse battery staple" }),
          });
          const body = (await response.json()) as { token?: string };
          if (!response.ok || !body.token) throw new Error(`bench: registering a user failed with ${response.status}: ${JSON.stringify(body)}`);
          tokens.push(body.token);
        }
        return tokens;
      },
      startPops: (popOptions) =>
        startPops(popOptions, { originUrl: served.url, serviceSecret: origin.serviceSecret, natsUrl: options.natsUrl }),
      originTexts: (slugs) => currentTexts(prisma, slugs),
      batches: (pops) =>
        prisma.batch.findMany({ where: { pop: { in: [...pops] } }, select: { edge: true, receivedAt: true, editCount: true }, orderBy: { receivedAt: "asc" } }),
      close: cleanup,
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

/** Starts PoPs of real edge processes against an origin over NATS; the spike harness uses it too. */
export async function startPops(
  options: PopOptions,
  system: {
    originUrl: string;
    serviceSecret: string;
    natsUrl: string;
    /** The origin a PoP's replicas flush to, when there are several; `originUrl` otherwise. */
    originUrlOf?: (pop: string) => string;
    /** A PoP's own NATS servers (comma-separated), when each PoP has its own; `natsUrl` otherwise. */
    natsUrlOf?: (pop: string) => string;
  },
): Promise<RunningPops> {
  const natsUrlOf = system.natsUrlOf ?? (() => system.natsUrl);
  const spawned: (EdgeProcess & { pop: string })[] = [];
  const crashes: { replica: string; exit: number | string; at: string }[] = [];
  let stopping = false;
  const starts = options.pops.flatMap((pop) =>
    Array.from({ length: options.replicasPerPop }, async (_, i) => {
      const edge = await spawnEdge(
        {
          EDGE_POP: pop,
          EDGE_REPLICA: `${pop}-${String.fromCharCode(97 + i)}`,
          ORIGIN_URL: system.originUrlOf?.(pop) ?? system.originUrl,
          EDGE_SERVICE_SECRET: system.serviceSecret,
          NATS_URL: natsUrlOf(pop),
          EDGE_DURABILITY: options.durability,
          EDGE_FLUSH_MS: String(options.flushMs),
          LOG_LEVEL: "warn",
          ...options.env,
        },
        60_000,
      );
      spawned.push({ ...edge, pop });
      void edge.exited.then((exit) => {
        if (!stopping) crashes.push({ replica: edge.replica, exit, at: new Date().toISOString() });
      });
    }),
  );
  const started = await Promise.allSettled(starts);
  const failed = started.find((result): result is PromiseRejectedResult => result.status === "rejected");
  const running: RunningPops = {
    pops: options.pops,
    edges: spawned.sort((a, b) => (a.replica < b.replica ? -1 : 1)),
    get targets() {
      return this.edges.map((edge) => ({ pop: edge.pop, url: edge.url }));
    },
    async stop(timeoutMs = 30_000) {
      stopping = true;
      for (const edge of spawned) edge.kill("SIGTERM");
      const exits = await Promise.all(
        spawned.map(async (edge) => {
          const timer = setTimeout(() => edge.kill("SIGKILL"), timeoutMs);
          const exit = await edge.exited;
          clearTimeout(timer);
          return { replica: edge.replica, exit };
        }),
      );
      for (const pop of options.pops) {
        // A PoP whose NATS a fault took down has no stream left to remove.
        await deleteLogStreams([pop], natsUrlOf(pop)).catch((error: unknown) => console.warn(`bench: removing ${pop}'s log stream failed: ${(error as Error).message}`));
      }
      return exits;
    },
    crashes: () => [...crashes],
    problems() {
      return spawned.flatMap((edge) =>
        edge
          .output()
          .split("\n")
          .filter((line) => /"level":(40|50|60)/.test(line) || (line.length > 0 && !line.startsWith("{")))
          .map((line) => `${edge.replica}: ${line}`),
      );
    },
  };
  if (failed) {
    await running.stop(5000);
    throw failed.reason;
  }
  try {
    await waitForMembership(running, options.replicasPerPop);
  } catch (error) {
    // Started edges must not outlive a start that failed.
    await running.stop(5000);
    throw error;
  }
  return running;
}

/** Waits until every replica sees all of its PoP's replicas, so that page ownership is settled before load. */
async function waitForMembership(pops: RunningPops, replicasPerPop: number, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const edge of pops.edges) {
    for (;;) {
      const metrics = await scrapeMetrics(edge.httpUrl).catch(() => new Map<string, number>());
      if ((metrics.get("weirwood_edge_members") ?? 0) >= replicasPerPop) break;
      if (Date.now() > deadline) throw new Error(`bench: ${edge.replica} does not see the ${replicasPerPop} replicas of its PoP after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

/** An edge's /metrics as name{labels} -> value (labels sorted as the edge prints them, default labels dropped). */
export async function scrapeMetrics(httpUrl: string): Promise<Map<string, number>> {
  const response = await fetch(`${httpUrl}/metrics`, { signal: AbortSignal.timeout(5000) });
  const text = await response.text();
  const values = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line.startsWith("#") || line.length === 0) continue;
    const match = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)$/.exec(line);
    if (!match) continue;
    const labels = (match[2] ?? "")
      .replace(/^\{|\}$/g, "")
      .split(",")
      .filter((label) => label && !label.startsWith("pop=") && !label.startsWith("replica="));
    values.set(labels.length > 0 ? `${match[1]}{${labels.join(",")}}` : match[1]!, Number(match[3]));
  }
  return values;
}

/** The PoPs' JetStream streams outlive their replicas: remove them (tests/support/cluster.ts does the same). */
async function deleteLogStreams(pops: readonly string[], natsUrl: string): Promise<void> {
  const nc = await connect({ servers: natsUrl.split(",") });
  try {
    const jsm = await jetstreamManager(nc);
    for (const pop of pops) await jsm.streams.delete(subjects.logStream(pop)).catch(() => false);
  } finally {
    await nc.close();
  }
}
