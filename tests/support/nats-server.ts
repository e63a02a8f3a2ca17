import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { freePort } from "./free-port";

const NATS_SERVER = process.env.NATS_SERVER_BIN ?? "/usr/sbin/nats-server";

/** Whether the nats-server binary is there (Debian's package). */
export function natsServerInstalled(): boolean {
  return existsSync(NATS_SERVER);
}

/** A NATS server of a test's own, with JetStream in a folder of its own, that the test may stop and start again. */
export interface PrivateNats {
  readonly url: string;
  /** Kills the server (SIGKILL) and waits until it is gone; its store stays. */
  kill(): Promise<void>;
  /** Starts it again on the same port and store. */
  restart(): Promise<void>;
  /** Stops the server (SIGSTOP) for `ms`, then lets it go on: a stalled server that keeps its connections. */
  pause(ms: number): Promise<void>;
  /** Kills it and removes its store. */
  remove(): Promise<void>;
}

async function run(port: number, storeDir: string): Promise<ChildProcess> {
  const child = spawn(NATS_SERVER, ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", storeDir], { stdio: ["ignore", "ignore", "pipe"] });
  const lines: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`nats-server on port ${port} not ready after 10 s:\n${lines.join("")}`)), 10_000);
    child.stderr!.on("data", (chunk: Buffer) => {
      lines.push(chunk.toString());
      if (lines.join("").includes("Server is ready")) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`nats-server on port ${port} exited (${code}) before it was ready:\n${lines.join("")}`));
    });
  });
  return child;
}

/** Starts `nats-server -js` on a free port of 127.0.0.1 with a temporary store. */
export async function startPrivateNats(): Promise<PrivateNats> {
  const port = await freePort();
  const storeDir = await mkdtemp(path.join(tmpdir(), "weirwood-nats-"));
  let child: ChildProcess | undefined = await run(port, storeDir);
  const kill = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = once(running, "exit");
    running.kill("SIGKILL");
    await exited;
  };
  return {
    url: `nats://127.0.0.1:${port}`,
    kill,
    async restart() {
      await kill();
      child = await run(port, storeDir);
    },
    async pause(ms) {
      if (!child) throw new Error("pause: the server is not running");
      child.kill("SIGSTOP");
      await new Promise((resolve) => setTimeout(resolve, ms));
      child.kill("SIGCONT");
    },
    async remove() {
      await kill();
      await rm(storeDir, { recursive: true, force: true });
    },
  };
}
