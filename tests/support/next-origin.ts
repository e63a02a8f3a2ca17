import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { createScratchDatabase, type ScratchDatabase } from "../../prisma/scratch-database";
import { eventually } from "./cluster";
import { TEST_PG_URL } from "./databases";
import { freePort } from "./free-port";

/**
 * The origin as `npm run origin` runs it: Next's production server behind
 * origin/server/next-host.ts, on a scratch Postgres database, in its own
 * process group. Needs the built app (`npm run build`).
 */
export interface NextOrigin {
  url: string;
  /** The edge service secret it generated in its data folder, for POST /api/internal/flush. */
  serviceSecret: string;
  close(): Promise<void>;
}

export async function startNextOrigin(env: Record<string, string> = {}): Promise<NextOrigin> {
  const database: ScratchDatabase = await createScratchDatabase(TEST_PG_URL, "weirwood_next_origin");
  const dataDir = await mkdtemp(path.join(tmpdir(), "weirwood-next-origin-"));
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", "origin/server/standalone.ts"], {
    env: {
      ...process.env,
      DATABASE_URL: database.url,
      WEIRWOOD_DATA_DIR: dataDir,
      HOST: "127.0.0.1",
      PORT: String(port),
      LOG_LEVEL: "warn",
      NEXT_TELEMETRY_DISABLED: "1",
      ORIGIN_REGISTRATIONS_PER_ADDRESS: "0",
      ORIGIN_SCRYPT_LOG_N: "14",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  const lines: string[] = [];
  createInterface({ input: child.stdout! }).on("line", (line) => lines.push(line));
  createInterface({ input: child.stderr! }).on("line", (line) => lines.push(line));
  const exited = once(child, "exit");
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      process.kill(-child.pid!, "SIGTERM");
      await exited;
    }
    await database.drop();
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    const ready = await eventually(
      () => lines.some((line) => line.startsWith(`{"event":"origin-ready"`)),
      (found) => found || child.exitCode !== null,
      120_000,
    );
    if (!ready) throw new Error(`the origin did not start (is the app built? npm run build); it printed:\n${lines.slice(-30).join("\n")}`);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    url: `http://127.0.0.1:${port}`,
    serviceSecret: (await readFile(path.join(dataDir, "keys", "edge-service-secret"), "utf8")).trim(),
    close: stop,
  };
}
