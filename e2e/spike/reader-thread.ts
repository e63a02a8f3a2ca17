import { parentPort, workerData } from "node:worker_threads";
import { type ReaderShareOptions, runReaderShare } from "./reader-share";

// A worker thread of the readers (readers.ts): runs its share and posts the result.
const options = workerData as ReaderShareOptions;
runReaderShare(options).then(
  (result) => parentPort!.postMessage({ type: "result", result }),
  (error: unknown) => parentPort!.postMessage({ type: "error", message: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
);
