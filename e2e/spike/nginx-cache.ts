import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir, userInfo } from "node:os";
import path from "node:path";

/**
 * The self-hosting guide's caching proxy (docs/self-hosting/nginx-cache.conf)
 * as a private nginx: the guide's file with its {{placeholders}} filled in
 * for a scratch folder and a loopback port, run in the foreground as a child
 * of this process. The spike's readers and the cache's tests go through it,
 * so what they measure is the file users deploy.
 */

export const NGINX_TEMPLATE = path.join(import.meta.dirname, "..", "..", "docs", "self-hosting", "nginx-cache.conf");

export interface NginxCache {
  /** http://127.0.0.1:<port> */
  readonly url: string;
  readonly pid: number;
  /** The folder of its config, logs and cache. */
  readonly dir: string;
  close(): Promise<void>;
}

/** The template with every placeholder replaced; a placeholder left over is an error, not a broken config. */
export function fillTemplate(template: string, values: Record<string, string>): string {
  const filled = template.replace(/\{\{([A-Z_]+)\}\}/gu, (whole, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`nginx-cache: ${NGINX_TEMPLATE} names {{${name}}}, which nothing fills in`);
    return value;
  });
  return filled;
}

const NGINX_PATH = process.env.NGINX_PATH ?? "/usr/sbin/nginx";

/** Whether Debian's nginx (or NGINX_PATH) is there. */
export function nginxInstalled(): boolean {
  return existsSync(NGINX_PATH);
}

function nginxBinary(): string {
  const binary = NGINX_PATH;
  if (!existsSync(binary)) throw new Error(`nginx-cache: no nginx at ${binary}; install Debian's (apt-get install -y nginx-light) or set NGINX_PATH`);
  return binary;
}

function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

export async function startNginxCache(options: { origin: string; port: number; workers?: number }): Promise<NginxCache> {
  const binary = nginxBinary();
  const dir = await mkdtemp(path.join(tmpdir(), "weirwood-nginx-cache-"));
  const runDir = path.join(dir, "run");
  const cacheDir = path.join(dir, "cache");
  await Promise.all([mkdir(runDir), mkdir(cacheDir)]);
  const config = fillTemplate(await readFile(NGINX_TEMPLATE, "utf8"), {
    // The workers run as this process's user, so they can write the scratch cache folder.
    USER: userInfo().username,
    WORKERS: String(options.workers ?? 1),
    RUN_DIR: runDir,
    LOG_DIR: dir,
    CACHE_DIR: cacheDir,
    LISTEN: `127.0.0.1:${options.port}`,
    ORIGIN: new URL(options.origin).host,
  });
  const configPath = path.join(dir, "nginx.conf");
  await writeFile(configPath, config);
  // -p: relative paths nginx has compiled in (its other temp folders) land in the scratch folder too.
  const child: ChildProcess = spawn(binary, ["-p", `${dir}/`, "-c", configPath, "-g", "daemon off;"], {
    stdio: ["ignore", "ignore", "pipe"],
    detached: true,
  });
  const errors: string[] = [];
  child.stderr!.on("data", (chunk: Buffer) => errors.push(chunk.toString()));
  const exited = once(child, "exit");
  const close = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      // SIGTERM to the group: the master and its workers, this child's only.
      process.kill(-child.pid!, "SIGTERM");
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 10_000;
  while (!(await portAnswers(options.port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      const why = child.exitCode !== null ? `exited with ${child.exitCode}` : "did not listen within 10 s";
      const log = await readFile(path.join(dir, "weirwood-cache-error.log"), "utf8").catch(() => "");
      await close();
      throw new Error(`nginx-cache: nginx ${why} on 127.0.0.1:${options.port}:\n${errors.join("")}${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { url: `http://127.0.0.1:${options.port}`, pid: child.pid!, dir, close };
}
