import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { readFile, mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import type { DurabilityLevel } from "../../protocol/messages";
import { type Database, openDatabase } from "../../origin/db";
import { total } from "../../origin/ops/aggregate";
import { parseMetricsText } from "../../origin/ops/metrics-text";
import { createScratchDatabase } from "../../prisma/scratch-database";
import { type RunningPops, startPops } from "../load/bench-system";
import type { EdgeTarget } from "../load/load-plan";
import { type EdgeProcess, spawnEdge } from "../../tests/support/edge-process";
import { type NatsHub, type NatsPop, startNatsHub } from "../../tests/support/nats-topology";
import { type PrivatePostgres, startPrivatePostgres } from "../support/private-postgres";

/**
 * Which NATS a managed deployment runs on. `shared`: the machine's server
 * (NATS_URL), every PoP's log R1 on it. `cluster`: the self-hosting guide's
 * topology started for the run (tests/support/nats-topology.ts): a hub
 * where the origin connects and, per PoP, three servers in a JetStream
 * cluster of the PoP's domain, leaf nodes of the hub, the log at R3.
 * `single`: the same with one server per PoP, the log at R1.
 */
export const NATS_KINDS = ["shared", "cluster", "single"] as const;
export type NatsKind = (typeof NATS_KINDS)[number];

/**
 * Where a spike runs. `managed`: the harness starts a self-hosted Weirwood
 * on this machine (the Next.js wiki + origin of `npm run origin` over a
 * scratch Postgres database and NATS, PoPs of `npm run edge` processes), so
 * that it can run every durability level and the write-through baseline in
 * one run, add a replica, SIGKILL one, or stop the origin. `target`: an
 * already running deployment (`npm start`, or a self-hosted one) whose edges
 * come from its GET /api/edges; the harness can only load and verify it.
 */
export interface Deployment {
  readonly kind: "managed" | "target";
  readonly originUrl: string;
  /** Registers `count` accounts through the origin's API; answers their names and edge tokens. */
  register(count: number, prefix: string): Promise<{ name: string; token: string }[]>;
  /** Origin transactions (Batch rows) of these PoPs since `since`, when the deployment's database is reachable. */
  batches(pops: readonly string[], since: number): Promise<{ edge: string; at: number; edits: number }[] | undefined>;
  /**
   * Batches the origin has merged so far, from its own /metrics: how a
   * deployment whose database the harness cannot read counts its origin
   * transactions (a delta over a level; other writers count too).
   */
  mergedBatches(): Promise<number | undefined>;
  /** Text of each page at the origin, through its HTTP API ("" for a page that does not exist yet). */
  originTexts(slugs: readonly string[]): Promise<Map<string, string>>;
  close(): Promise<void>;
}

export interface ManagedDeployment extends Deployment {
  readonly kind: "managed";
  /** The scratch Postgres database the origin writes to, and its URL. */
  readonly databaseName: string;
  readonly databaseUrl: string;
  /** The edges' service secret, for POST /api/internal/flush as an edge makes it. */
  readonly serviceSecret: string;
  /** The origin process's pid while it runs. */
  originPid(): number | undefined;
  startPops(options: { pops: string[]; replicasPerPop: number; durability: DurabilityLevel; flushMs: number }): Promise<RunningPops>;
  /** One more replica of `pop`, as a separate process: a replica added mid-spike. */
  addReplica(pop: string, replica: string, durability: DurabilityLevel, flushMs: number): Promise<EdgeProcess>;
  /** SIGKILLs the origin, waits `downMs`, starts it again on the same port; answers how long it was unreachable. */
  stopOrigin(downMs: number): Promise<{ downMs: number }>;
  /** The NATS the run is on, and the servers of each PoP when they are the run's own. */
  readonly nats: {
    kind: NatsKind;
    natsPop(pop: string): NatsPop | undefined;
    /** The server leading a PoP's stream (its one server at R1), when the PoP's NATS is the run's own. */
    streamLeader(pop: string, stream: string): Promise<string | undefined>;
    describe(): string;
  };
  /** Crash-stops the run's private Postgres, waits `downMs`, starts it again (only with `postgres: "private"`). */
  restartPostgres(downMs: number): Promise<{ downMs: number }>;
  /** Every origin process's URL; the first is `originUrl`, where the harness registers and reads. */
  readonly originUrls: readonly string[];
  /** "shared server" or "private cluster": where the origin's database lives. */
  readonly postgres: "shared" | "private";
}

export interface TargetDeployment extends Deployment {
  readonly kind: "target";
  /** The live edges, from GET /api/edges. */
  edges(): Promise<(EdgeTarget & { replica: string })[]>;
}

async function registerThrough(originUrl: string, count: number, prefix: string): Promise<{ name: string; token: string }[]> {
  const accounts: { name: string; token: string }[] = [];
  for (let i = 0; i < count; i++) {
    const name = `${prefix} ${i + 1}`;
    const response = await fetch(`${originUrl}/api/auth/register`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name, password: SPIKE_PASSWORD }),
    });
    const body = (await response.json().catch(() => ({}))) as { token?: string; error?: string };
    if (!response.ok || !body.token) throw new Error(`spike: registering ${JSON.stringify(name)} at ${originUrl} failed with ${response.status}: ${JSON.stringify(body)}`);
    accounts.push({ name, token: body.token });
  }
  return accounts;
}

export const SPIKE_PASSWORD = "correct horse battery staple";

async function mergedBatchesThrough(originUrl: string): Promise<number | undefined> {
  try {
    const response = await fetch(`${originUrl}/metrics`, { signal: AbortSignal.timeout(5000) });
    if (!response.ok) return undefined;
    return total(parseMetricsText(await response.text()), "weirwood_origin_batches_total", { result: "merged" });
  } catch {
    return undefined;
  }
}

async function originTextsThrough(originUrl: string, slugs: readonly string[]): Promise<Map<string, string>> {
  const texts = new Map<string, string>();
  await Promise.all(
    slugs.map(async (slug) => {
      const response = await fetch(`${originUrl}/api/pages/${encodeURIComponent(slug)}`, { signal: AbortSignal.timeout(10_000) });
      if (response.status === 404) return texts.set(slug, "");
      if (!response.ok) throw new Error(`spike: reading ${slug} from the origin answered ${response.status}`);
      texts.set(slug, ((await response.json()) as { text: string }).text);
    }),
  );
  return texts;
}

/** An already running Weirwood: `npm start`'s, or a self-hosted one. */
export async function connectTarget(originUrl: string): Promise<TargetDeployment> {
  const ready = await fetch(`${originUrl}/readyz`).catch((error: unknown) => {
    throw new Error(`spike: the target ${originUrl} does not answer (${(error as Error).message}); start it with \`npm start\` or pass another --target`);
  });
  if (!ready.ok) throw new Error(`spike: the target ${originUrl} is not ready (GET /readyz answered ${ready.status})`);
  return {
    kind: "target",
    originUrl,
    register: (count, prefix) => registerThrough(originUrl, count, prefix),
    batches: async () => undefined,
    mergedBatches: () => mergedBatchesThrough(originUrl),
    originTexts: (slugs) => originTextsThrough(originUrl, slugs),
    async edges() {
      const response = await fetch(`${originUrl}/api/edges`);
      if (!response.ok) throw new Error(`spike: GET ${originUrl}/api/edges answered ${response.status}: ${await response.text()}`);
      const edges = (await response.json()) as { pop: string; replica: string; url: string; state: string }[];
      return edges.filter((edge) => edge.state === "up").map(({ pop, replica, url }) => ({ pop, replica, url }));
    },
    close: async () => {},
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

interface OriginProcess {
  child: ChildProcess;
  exited: Promise<unknown>;
  output: string[];
}

/** `npm run origin`'s entry as a real process; resolves once it prints that it is ready. */
async function spawnOrigin(env: Record<string, string>, timeoutMs = 60_000): Promise<OriginProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", "origin/server/standalone.ts"], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output: string[] = [];
  child.stderr!.on("data", (chunk: Buffer) => output.push(chunk.toString()));
  const exited = once(child, "exit");
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`spike: the origin was not ready after ${timeoutMs} ms:\n${output.join("")}`)), timeoutMs);
    createInterface({ input: child.stdout! }).on("line", (line) => {
      output.push(line);
      if (line.startsWith('{"event":"origin-ready"')) {
        clearTimeout(timer);
        resolve();
      }
    });
    void exited.then(([code, signal]) => {
      clearTimeout(timer);
      reject(new Error(`spike: the origin exited (${code ?? signal}) before it was ready:\n${output.join("\n")}`));
    });
  });
  return { child, exited, output };
}

/**
 * Starts the managed deployment. Builds the wiki first when it is missing or
 * stale (the same step as `npm start`), then the origin over a scratch
 * database of `pgUrl`, dropped on close.
 */
export async function startManaged(options: {
  pgUrl: string;
  natsUrl: string;
  log: (line: string) => void;
  databasePrefix?: string;
  /** More of the origin's settings (e.g. ORIGIN_TEXT_QUIET_MS). */
  originEnv?: Record<string, string>;
  nats?: NatsKind;
  /** Origin processes over the same database and keys (default 1); the PoPs flush to them in turn. */
  origins?: number;
  /** `private`: a Postgres cluster of the run's own (e2e/support/private-postgres.ts), which the run may restart. */
  postgres?: "shared" | "private";
}): Promise<ManagedDeployment> {
  const prepared = spawnSync(process.execPath, ["origin/server/prepare.mjs"], { stdio: ["ignore", "inherit", "inherit"] });
  if (prepared.status !== 0) throw new Error(`spike: preparing the wiki (generate + build) failed with exit ${prepared.status}`);
  const cleanups: (() => Promise<unknown>)[] = [];
  const cleanup = async () => {
    for (const step of cleanups.reverse()) await step().catch((error: unknown) => console.error(`spike cleanup: ${(error as Error).message}`));
  };
  try {
    let privatePostgres: PrivatePostgres | undefined;
    if (options.postgres === "private") {
      privatePostgres = await startPrivatePostgres();
      cleanups.push(() => privatePostgres!.stop());
    }
    const natsKind = options.nats ?? "shared";
    let hub: NatsHub | undefined;
    if (natsKind !== "shared") {
      hub = await startNatsHub();
      cleanups.push(() => hub!.stop());
    }
    const originNatsUrl = hub?.server.url ?? options.natsUrl;
    const natsUrlOf = hub ? (pop: string) => hub!.pops.get(pop)?.urls.join(",") ?? hub!.server.url : () => options.natsUrl;
    const logReplicas = natsKind === "cluster" ? "3" : "1";
    const scratch = await createScratchDatabase(privatePostgres?.url ?? options.pgUrl, options.databasePrefix ?? "weirwood_spike");
    cleanups.push(scratch.drop);
    const dataDir = await mkdtemp(path.join(tmpdir(), "weirwood-spike-"));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const port = await freePort();
    const originUrl = `http://127.0.0.1:${port}`;
    const env = { DATABASE_URL: scratch.url, WEIRWOOD_DATA_DIR: dataDir, NATS_URL: originNatsUrl, HOST: "127.0.0.1", PORT: String(port), LOG_LEVEL: "warn", ORIGIN_REGISTRATIONS_PER_ADDRESS: "0", ...options.originEnv };
    let origin: OriginProcess | undefined = await spawnOrigin(env);
    cleanups.push(async () => {
      if (!origin) return;
      origin.child.kill("SIGTERM");
      const timer = setTimeout(() => origin?.child.kill("SIGKILL"), 10_000);
      await origin.exited;
      clearTimeout(timer);
    });
    const database: Database = await openDatabase({ kind: "postgres", url: scratch.url });
    cleanups.push(() => database.close());
    const serviceSecret = (await readFile(path.join(dataDir, "keys", "edge-service-secret"), "utf8")).trim();
    // More origins of the same deployment: the same database and data folder
    // (so the same signing keys and service secret), each on its own port.
    // The i-th PoP of a level flushes to origin i mod N.
    const moreOrigins: OriginProcess[] = [];
    const originUrls = [originUrl];
    cleanups.push(async () => {
      for (const more of moreOrigins) more.child.kill("SIGTERM");
      await Promise.all(moreOrigins.map((more) => more.exited));
    });
    for (let i = 1; i < (options.origins ?? 1); i++) {
      const morePort = await freePort();
      moreOrigins.push(await spawnOrigin({ ...env, PORT: String(morePort) }));
      originUrls.push(`http://127.0.0.1:${morePort}`);
    }
    const popOriginUrls = new Map<string, string>();
    const originUrlOf = (pop: string) => popOriginUrls.get(pop) ?? originUrl;
    const describeNats = () =>
      hub
        ? `a NATS hub (${hub.server.url}) with, per PoP, ${natsKind === "cluster" ? "a cluster of 3 servers (log R3)" : "1 server (log R1)"} as leaf nodes: ` +
          [...hub.pops].map(([pop, servers]) => `${pop} ${servers.urls.join(",")}`).join("; ")
        : `the shared NATS server ${options.natsUrl} (logs R1)`;
    options.log(
      `origin (Next.js wiki + API) at ${originUrls.join(" and ")}, Postgres scratch database ${scratch.name} on ${privatePostgres ? `a private cluster of the run's own (${privatePostgres.url})` : `the server at ${new URL(options.pgUrl).host}`}, ` +
        `NATS: ${hub ? `hub ${hub.server.url}, PoPs of ${natsKind === "cluster" ? 3 : 1} server(s) added per level` : options.natsUrl}`,
    );

    const managed: ManagedDeployment = {
      kind: "managed",
      databaseName: scratch.name,
      databaseUrl: scratch.url,
      serviceSecret,
      originUrl,
      originPid: () => origin?.child.pid,
      register: (count, prefix) => registerThrough(originUrl, count, prefix),
      originTexts: (slugs) => originTextsThrough(originUrl, slugs),
      mergedBatches: () => mergedBatchesThrough(originUrl),
      async batches(pops, since) {
        const rows = await database.prisma.batch.findMany({
          where: { pop: { in: [...pops] }, receivedAt: { gte: new Date(since) } },
          select: { edge: true, receivedAt: true, editCount: true },
          orderBy: { receivedAt: "asc" },
        });
        return rows.map((row) => ({ edge: row.edge, at: row.receivedAt.getTime(), edits: row.editCount }));
      },
      nats: {
        kind: natsKind,
        natsPop: (pop) => hub?.pops.get(pop),
        streamLeader: async (pop, stream) => hub?.streamLeader(pop, stream),
        describe: describeNats,
      },
      postgres: privatePostgres ? "private" : "shared",
      originUrls,
      async startPops(popOptions) {
        popOptions.pops.forEach((pop, i) => popOriginUrls.set(pop, originUrls[i % originUrls.length]!));
        if (hub) {
          for (const pop of popOptions.pops) await hub.addPop(pop, { servers: natsKind === "cluster" ? 3 : 1, cuttableLink: true });
          await hub.leavesConnected();
        }
        const running = await startPops(
          { ...popOptions, env: { EDGE_RATE_LIMIT: "off", EDGE_LOG_REPLICAS: logReplicas } },
          { originUrl, originUrlOf, serviceSecret, natsUrl: options.natsUrl, natsUrlOf },
        );
        if (!hub) return running;
        // The PoPs' servers live as long as their replicas.
        const stopReplicas = running.stop.bind(running);
        running.stop = async (timeoutMs?: number) => {
          const exits = await stopReplicas(timeoutMs);
          for (const pop of popOptions.pops) await hub!.removePop(pop);
          return exits;
        };
        return running;
      },
      async restartPostgres(downMs) {
        if (!privatePostgres) throw new Error("spike: restarting Postgres needs the run's own cluster (--restart-postgres starts one)");
        const stoppedAt = Date.now();
        await privatePostgres.restart(downMs);
        return { downMs: Date.now() - stoppedAt };
      },
      addReplica: (pop, replica, durability, flushMs) =>
        spawnEdge({
          EDGE_POP: pop,
          EDGE_REPLICA: replica,
          ORIGIN_URL: originUrlOf(pop),
          EDGE_SERVICE_SECRET: serviceSecret,
          NATS_URL: natsUrlOf(pop),
          EDGE_LOG_REPLICAS: logReplicas,
          EDGE_DURABILITY: durability,
          EDGE_FLUSH_MS: String(flushMs),
          EDGE_RATE_LIMIT: "off",
          LOG_LEVEL: "warn",
        }, 90_000),
      async stopOrigin(downMs) {
        const stoppedAt = Date.now();
        const running = origin;
        origin = undefined;
        running?.child.kill("SIGKILL");
        await running?.exited;
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, downMs - (Date.now() - stoppedAt))));
        origin = await spawnOrigin(env);
        return { downMs: Date.now() - stoppedAt };
      },
      close: cleanup,
    };
    return managed;
  } catch (error) {
    await cleanup();
    throw error;
  }
}
