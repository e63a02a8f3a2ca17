import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { natsAnswers, TEST_NATS_URL } from "../support/test-nats";
import { ProtocolEditor } from "../../e2e/load/protocol-editor";
import { eventually } from "../support/cluster";
import { freePort } from "../support/free-port";
import { createScratchDatabase, type ScratchDatabase } from "../../prisma/scratch-database";
import { TEST_PG_URL, testDatabases } from "../support/databases";

/** A command of the README run as a real process group, and what it printed. */
interface Running {
  child: ChildProcess;
  lines: string[];
  exited: Promise<number | string>;
}

function run(command: string, args: string[], env: Record<string, string>): Running {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"], detached: true });
  const lines: string[] = [];
  createInterface({ input: child.stdout! }).on("line", (line) => lines.push(line));
  createInterface({ input: child.stderr! }).on("line", (line) => lines.push(line));
  const exited = once(child, "exit").then(([code, signal]) => (code ?? signal) as number | string);
  return { child, lines, exited };
}

async function readyLine<T>(running: Running, event: string, timeoutMs = 240_000): Promise<T> {
  const line = await eventually(
    () => running.lines.find((candidate) => candidate.startsWith(`{"event":"${event}"`)),
    (found) => found !== undefined || running.child.exitCode !== null,
    timeoutMs,
  );
  if (!line) throw new Error(`no ${event} line; the process printed:\n${running.lines.slice(-40).join("\n")}`);
  return JSON.parse(line) as T;
}

/** Whether any process of the group is still alive. */
/** The process's exit code, or a failure that shows what it printed last when it does not exit in time. */
async function exitedWithin(running: Running, timeoutMs: number): Promise<number | string> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still running ${timeoutMs} ms after the signal; it printed:\n${running.lines.slice(-30).join("\n")}`)), timeoutMs);
  });
  try {
    return await Promise.race([running.exited, late]);
  } finally {
    clearTimeout(timer);
  }
}

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function register(url: string, name: string): Promise<string> {
  const response = await fetch(`${url}/api/auth/register`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name, password: "a lannister always pays" }),
  });
  return ((await response.json()) as { token: string }).token;
}

/**
 * A step that has no bound of its own (a sync, an ack) fails after
 * `timeoutMs` naming itself, inside the test's own timeout, which would say
 * nothing of where it stopped (CI rehearsals under load, 2026-12-04).
 */
async function within<T>(what: string, timeoutMs: number, step: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing after ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([step, late]);
  } finally {
    clearTimeout(timer);
  }
}

interface ListedEdge {
  pop: string;
  replica: string;
  url: string;
}

async function listedEdges(url: string): Promise<ListedEdge[]> {
  return (await (await fetch(`${url}/api/edges`)).json()) as ListedEdge[];
}

/**
 * Types through one edge of each PoP and waits for the origin to serve the
 * merged text. `ours`: the test's own PoPs; on a shared NATS server the
 * origin also hears other runs' edges.
 */
async function editThroughEachPop(url: string, token: string, slug: string, ours?: string[]): Promise<string[]> {
  const edges = (await listedEdges(url)).filter((edge) => !ours || ours.includes(edge.pop));
  const pops = [...new Set(edges.map((edge) => edge.pop))];
  expect(pops.length).toBeGreaterThanOrEqual(2);
  const markers: string[] = [];
  for (const pop of pops) {
    const edge = edges.find((candidate) => candidate.pop === pop)!;
    const editor = ProtocolEditor.connect({ url: edge.url, slug, token });
    await within(`${edge.replica}: first sync of ${slug}`, 60_000, editor.synced);
    const marker = `[via ${pop}]`;
    await within(`${edge.replica}: ack of an edit to ${slug}`, 60_000, editor.insert(0, marker));
    markers.push(marker);
    await within(`${edge.replica}: close`, 30_000, editor.close());
  }
  const page = await eventually(
    async () => (await fetch(`${url}/api/pages/${slug}`)).json() as Promise<{ text?: string }>,
    (body) => markers.every((marker) => body.text?.includes(marker)),
    15_000,
  );
  for (const marker of markers) expect(page.text).toContain(marker);
  return markers;
}

describe("npm start: the whole system in one process tree", () => {
  let dataDir: string;
  const started: Running[] = [];
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), "weirwood-start-"));
  });
  afterAll(async () => {
    // A failed assertion must not leave a whole Weirwood running.
    for (const running of started) if (groupAlive(running.child.pid!)) process.kill(-running.child.pid!, "SIGKILL");
    await rm(dataDir, { recursive: true, force: true });
  });

  it("serves the wiki and two PoPs, merges edits from both, stops cleanly on SIGINT and keeps the edit across a restart", async () => {
    const port = 3400 + Math.floor(Math.random() * 400);
    const env = { WEIRWOOD_DATA_DIR: dataDir, PORT: String(port), EDGE_BASE_PORT: String(port + 1000), LOG_LEVEL: "warn" };
    const first = run("npm", ["start"], env);
    started.push(first);
    const { url } = await readyLine<{ url: string }>(first, "weirwood-ready");
    const token = await register(url, "Jon");
    const markers = await editThroughEachPop(url, token, "Castle_Black");

    process.kill(-first.child.pid!, "SIGINT");
    expect(await first.exited).toBe(0);
    await eventually(() => groupAlive(first.child.pid!), (alive) => !alive, 5000);
    expect(groupAlive(first.child.pid!)).toBe(false);

    const second = run("npm", ["start"], env);
    started.push(second);
    try {
      await readyLine(second, "weirwood-ready");
      const page = (await (await fetch(`${url}/api/pages/Castle_Black`)).json()) as { text: string };
      for (const marker of markers) expect(page.text).toContain(marker);
    } finally {
      process.kill(-second.child.pid!, "SIGINT");
      await second.exited;
    }
  }, 300_000);
});

const hasNats = await natsAnswers();
const hasPostgres = testDatabases.some((database) => database.name === "postgres");

describe.runIf(hasNats && hasPostgres)("self-hosted: npm run origin and npm run edge against Postgres and NATS", () => {
  let database: ScratchDatabase;
  let dataDir: string;
  const started: Running[] = [];
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), "weirwood-selfhost-"));
    database = await createScratchDatabase(TEST_PG_URL, "weirwood_selfhost");
  });
  afterAll(async () => {
    for (const running of started) if (running.child.exitCode === null) process.kill(-running.child.pid!, "SIGKILL");
    await Promise.all(started.map((running) => running.exited));
    await database?.drop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("separate origin and edge processes serve two PoPs, merge edits from both and stop cleanly", async () => {
    // A free port, not a random one: a busy machine has other servers in any fixed range.
    const port = await freePort();
    const origin = run("npm", ["run", "origin"], {
      DATABASE_URL: database.url,
      NATS_URL: TEST_NATS_URL,
      WEIRWOOD_DATA_DIR: dataDir,
      PORT: String(port),
      LOG_LEVEL: "warn",
    });
    started.push(origin);
    const { url: originUrl } = await readyLine<{ url: string }>(origin, "origin-ready");
    const secret = await readFile(path.join(dataDir, "keys", "edge-service-secret"), "utf8");
    const suffix = randomBytes(2).toString("hex");
    const pops = [`us-east-${suffix}`, `eu-west-${suffix}`];
    for (const pop of pops) {
      for (const letter of ["a", "b"]) {
        // `npm run edge`'s entry point, without npm in between: npm dies of
        // the SIGTERM itself instead of reporting the edge's exit code.
        const edge = run(process.execPath, ["--import", "tsx", "edge/main.ts"], {
          EDGE_POP: pop,
          EDGE_REPLICA: `${pop}-${letter}`,
          ORIGIN_URL: originUrl,
          EDGE_SERVICE_SECRET: secret,
          NATS_URL: TEST_NATS_URL,
          EDGE_FLUSH_MS: "500",
          LOG_LEVEL: "warn",
        });
        started.push(edge);
        await readyLine(edge, "edge-ready", 60_000);
      }
    }
    // The shared NATS server also carries other runs' edges (a bench, another
    // test file): the origin lists them too, so count and use only ours.
    await eventually(async () => (await listedEdges(originUrl)).filter((edge) => pops.includes(edge.pop)).length, (count) => count === 4, 10_000);
    const token = await register(originUrl, "Davos");
    await editThroughEachPop(originUrl, token, "Dragonstone", pops);

    for (const running of started.slice(1)) process.kill(-running.child.pid!, "SIGTERM");
    for (const running of started.slice(1)) expect(await exitedWithin(running, 60_000)).toBe(0);
    process.kill(-origin.child.pid!, "SIGINT");
    expect(await exitedWithin(origin, 60_000)).toBe(0);
  }, 300_000);
});
