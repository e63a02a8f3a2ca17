import { Worker } from "node:worker_threads";

/**
 * Starts a TypeScript worker thread. Node 20 does not apply `--import tsx`
 * from a Worker's execArgv to the worker's own entry (it fails with
 * ERR_UNKNOWN_FILE_EXTENSION ".ts"), so the worker registers tsx's loader
 * itself, then imports the entry.
 */
export function startTsWorker(entry: URL, workerData: unknown, name: string): Worker {
  const tsx = import.meta.resolve("tsx/esm/api");
  const bootstrap = `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(bootstrap, { eval: true, workerData, name });
}

/**
 * One worker's messages, awaited by type; `progress` messages go to
 * listeners instead. An error or an early exit of the worker rejects what
 * is awaited.
 */
export class WorkerInbox<M extends { type: string }> {
  private readonly waiting = new Map<string, { resolve(message: M): void; reject(error: Error): void }>();
  private readonly arrived = new Map<string, M>();
  private readonly progressListeners = new Set<(message: Extract<M, { type: "progress" }>) => void>();
  private failure: Error | undefined;

  constructor(worker: Worker, what: string) {
    worker.on("message", (message: M) => {
      if (message.type === "progress") {
        for (const listener of this.progressListeners) listener(message as Extract<M, { type: "progress" }>);
        return;
      }
      const waiter = this.waiting.get(message.type);
      if (waiter) {
        this.waiting.delete(message.type);
        waiter.resolve(message);
      } else {
        this.arrived.set(message.type, message);
      }
    });
    const fail = (error: Error) => {
      this.failure = error;
      for (const waiter of this.waiting.values()) waiter.reject(error);
      this.waiting.clear();
    };
    worker.on("error", (error) => fail(new Error(`${what} failed: ${error.message}`, { cause: error })));
    worker.on("exit", (code) => fail(new Error(`${what} exited with code ${code}`)));
  }

  next<T extends Exclude<M["type"], "progress">>(type: T): Promise<Extract<M, { type: T }>> {
    const arrived = this.arrived.get(type);
    if (arrived) {
      this.arrived.delete(type);
      return Promise.resolve(arrived as Extract<M, { type: T }>);
    }
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => this.waiting.set(type, { resolve: resolve as (message: M) => void, reject }));
  }

  onProgress(listener: (message: Extract<M, { type: "progress" }>) => void): () => void {
    this.progressListeners.add(listener);
    return () => this.progressListeners.delete(listener);
  }
}
