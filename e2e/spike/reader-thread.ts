import { parentPort, workerData } from "node:worker_threads";
import { type ReaderShareOptions, runReaderShare } from "./reader-share";

// A worker thread of the readers (readers.ts): says it is ready, then runs its share from the start time it is given.
const options = workerData as Omit<ReaderShareOptions, "startAt">;
parentPort!.once("message", (message: { type: "start"; startAt: number }) => {
  runReaderShare({ ...options, startAt: message.startAt }).then(
    (result) => parentPort!.postMessage({ type: "result", result }),
    (error: unknown) => parentPort!.postMessage({ type: "error", message: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
  );
});
parentPort!.postMessage({ type: "ready" });
