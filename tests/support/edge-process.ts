import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";

export interface EdgeProcess {
  readonly pid: number;
  readonly url: string;
  readonly httpUrl: string;
  readonly replica: string;
  /** Resolves with the exit code (or the signal's name) when the process ends. */
  readonly exited: Promise<number | string>;
  kill(signal: NodeJS.Signals): void;
  /** What the process printed, for a failing test's message. */
  output(): string;
}

/** Starts `npm run edge`'s entry point as a real process and waits until it listens. */
export async function spawnEdge(env: Record<string, string>, timeoutMs = 30_000): Promise<EdgeProcess> {
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", "edge/main.ts"], {
    env: { ...process.env, LOG_LEVEL: "warn", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  child.stderr!.on("data", (chunk: Buffer) => lines.push(chunk.toString()));
  const exited = once(child, "exit").then(([code, signal]) => (code ?? signal) as number | string);
  const ready = new Promise<{ url: string; httpUrl: string; replica: string }>((resolve, reject) => {
    const reader = createInterface({ input: child.stdout! });
    reader.on("line", (line) => {
      lines.push(line);
      if (!line.startsWith('{"event":"edge-ready"')) return;
      resolve(JSON.parse(line) as { url: string; httpUrl: string; replica: string });
    });
    void exited.then((code) => reject(new Error(`edge exited (${code}) before it was ready:\n${lines.join("\n")}`)));
    setTimeout(() => reject(new Error(`edge not ready after ${timeoutMs} ms:\n${lines.join("\n")}`)), timeoutMs).unref();
  });
  const info = await ready;
  return {
    pid: child.pid!,
    ...info,
    exited,
    kill: (signal) => child.kill(signal),
    output: () => lines.join("\n"),
  };
}
