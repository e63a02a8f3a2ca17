import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { createInterface } from "node:readline";
import pg from "pg";
import { createScratchDatabase } from "../../prisma/scratch-database";
import { DOCUMENTS_TABLE_SQL, storedHocuspocusText } from "./hocuspocus-store";
import type { BenchServices, RunningSystem, SystemSpec } from "./system";

/**
 * Hocuspocus as its docs set it up: one `hocuspocus-server.ts` process with
 * the Database extension on a fresh Postgres database, or `nodes` of them
 * joined by the Redis extension (a key prefix of their own on the shared Redis).
 */
export function hocuspocusSpec(nodes: number, persistEveryMs?: number): SystemSpec {
  const persist = persistEveryMs
    ? `debounce ${persistEveryMs.toLocaleString("en")} ms / maxDebounce ${persistEveryMs.toLocaleString("en")} ms (stores at most every ${persistEveryMs / 1000} s)`
    : "default debounce 2,000 ms / maxDebounce 10,000 ms";
  return {
    id: (nodes === 1 ? "hocuspocus-1" : `hocuspocus-redis-${nodes}`) + (persistEveryMs ? `-persist${persistEveryMs / 1000}s` : ""),
    label: (nodes === 1 ? "Hocuspocus, 1 process" : `Hocuspocus + Redis, ${nodes} processes`) + (persistEveryMs ? `, store every ${persistEveryMs / 1000} s` : ""),
    family: "hocuspocus",
    // Its last store: a debounce after the last change (at most maxDebounce).
    settleMs: 2 * (persistEveryMs ?? 2000),
    settings:
      `@hocuspocus/server 4.7.0 + @hocuspocus/extension-database 4.7.0 (whole Yjs state upserted into one row per document), ${persist}` +
      (nodes > 1 ? ` + @hocuspocus/extension-redis 4.7.0 on Redis, ${nodes} processes` : ""),
    start: (services) => startHocuspocus(services, nodes, persistEveryMs),
  };
}

interface HocuspocusProcess {
  child: ChildProcess;
  url: string;
  exited: Promise<unknown>;
}

async function spawnHocuspocus(env: Record<string, string>, timeoutMs = 30_000): Promise<HocuspocusProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", "e2e/peers/hocuspocus-server.ts"], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  const output: string[] = [];
  child.stderr!.on("data", (chunk: Buffer) => output.push(chunk.toString()));
  const exited = once(child, "exit");
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`peers: Hocuspocus was not ready after ${timeoutMs} ms:\n${output.join("")}`)), timeoutMs);
    createInterface({ input: child.stdout! }).on("line", (line) => {
      output.push(line);
      if (!line.startsWith('{"event":"hocuspocus-ready"')) return;
      clearTimeout(timer);
      resolve((JSON.parse(line) as { url: string }).url);
    });
    void exited.then(([code, signal]) => {
      clearTimeout(timer);
      reject(new Error(`peers: Hocuspocus exited (${code ?? signal}) before it was ready:\n${output.join("\n")}`));
    });
  });
  return { child, url, exited };
}

async function startHocuspocus(services: BenchServices, nodes: number, persistEveryMs: number | undefined): Promise<RunningSystem> {
  const scratch = await createScratchDatabase(services.pgUrl, "hocuspocus_peers");
  const env: Record<string, string> = { DATABASE_URL: scratch.url, REDIS_URL: services.redisUrl };
  if (persistEveryMs) env.HOCUSPOCUS_PERSIST_MS = String(persistEveryMs);
  if (nodes > 1) env.HOCUSPOCUS_REDIS_PREFIX = `peers-${randomBytes(4).toString("hex")}`;
  let running: HocuspocusProcess[] = [];
  const stopAll = async () => {
    const stopping = running;
    running = [];
    for (const server of stopping) server.child.kill("SIGKILL");
    await Promise.all(stopping.map((server) => server.exited));
  };
  // The bench reads the stored state on its own connection to the system's database.
  const reader = new pg.Client({ connectionString: scratch.url });
  try {
    // The table before the servers: two of them running CREATE TABLE IF NOT
    // EXISTS at once can both try to create its row type, and one then
    // exits on a duplicate key in pg_type (seen in CI).
    await reader.connect();
    await reader.query(DOCUMENTS_TABLE_SQL);
    running = await Promise.all(Array.from({ length: nodes }, () => spawnHocuspocus(env)));
    services.log(`Hocuspocus at ${running.map((server) => server.url).join(", ")}, Postgres scratch database ${scratch.name}`);
    return {
      provider: "hocuspocus",
      urls: running.map((server) => server.url),
      tokens: ["bench"],
      databaseName: scratch.name,
      processes: () => running.map((server, i) => ({ name: nodes === 1 ? "hocuspocus" : `hocuspocus ${i + 1}`, pid: server.child.pid! })),
      sharedServices: nodes > 1 ? [{ name: "Redis", comm: "redis-server" }] : [],
      storedText: (slug) => storedHocuspocusText(reader, slug),
      crash: stopAll,
      async restart() {
        running = await Promise.all(Array.from({ length: nodes }, () => spawnHocuspocus(env)));
      },
      async close() {
        await stopAll();
        await reader.end().catch(() => undefined);
        await scratch.drop();
      },
    };
  } catch (error) {
    await stopAll();
    await reader.end().catch(() => undefined);
    await scratch.drop();
    throw error;
  }
}
