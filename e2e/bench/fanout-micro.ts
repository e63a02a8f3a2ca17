// The fan-out micro-benchmark: one edge replica, one page, N WebSocket
// clients (in a worker thread), E edits/s and P cursor moves/s spread over
// them. It reports what one coalesced window costs the edge's event loop
// and what each client receives. docs/benchmarks.md, "Fan-out micro-benchmark".
//
//   npm run bench:fanout -- [--clients 1000] [--edits 1000] [--presence 1000] [--seconds 10] [--window 5]
//   node --cpu-prof --cpu-prof-dir=reports --import tsx e2e/bench/fanout-micro.ts   # a profile of the edge side
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { Worker } from "node:worker_threads";
import { startCluster } from "../../tests/support/cluster";
import { testDatabases } from "../../tests/support/databases";
import type { ClientsPlan, ClientsReport } from "./fanout-clients";

const { values } = parseArgs({
  options: {
    clients: { type: "string", default: "1000" },
    edits: { type: "string", default: "1000" },
    presence: { type: "string", default: "1000" },
    seconds: { type: "string", default: "10" },
    window: { type: "string", default: "5" },
  },
});
const number = (name: keyof typeof values) => {
  const value = Number(values[name]);
  if (!Number.isFinite(value) || value < 0) throw new Error(`bench:fanout: --${name} must be a non-negative number, got "${values[name]}"`);
  return value;
};
const clients = number("clients");
const edits = number("edits");
const presence = number("presence");
const seconds = number("seconds");

const cluster = await startCluster({
  database: testDatabases[0]!,
  broker: "memory",
  pops: ["bench"],
  replicasPerPop: 1,
  flushMs: 2000,
  env: { EDGE_FANOUT_WINDOW_MS: String(number("window")), EDGE_RATE_LIMIT: "off", EDGE_MAX_CONNECTIONS: String(clients + 10) },
});
try {
  const edge = cluster.edges[0]!;
  const plan: ClientsPlan = { url: edge.url, slug: "Hot_Page", token: await cluster.token("Bench"), clients, editsPerSecond: edits, presencePerSecond: presence, seconds };
  const worker = startWorker(plan);
  await next(worker, "ready");
  // Let the handshakes' presence and sync settle before measuring.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const flushBefore = await histogram(edge.replica.metrics.fanoutFlushSeconds);
  const loopBefore = performance.eventLoopUtilization();
  const started = performance.now();
  worker.postMessage("start");
  const report = (await next(worker, "done")).report as ClientsReport;
  const elapsed = (performance.now() - started) / 1000;
  const loop = performance.eventLoopUtilization(loopBefore);
  const flush = await histogram(edge.replica.metrics.fanoutFlushSeconds);
  await worker.terminate();

  const windows = flush.count - flushBefore.count;
  const flushSeconds = flush.sum - flushBefore.sum;
  const result = {
    clients,
    offered: { editsPerSecond: edits, presencePerSecond: presence, windowMs: number("window") },
    sent: { edits: report.edits, presence: report.presence },
    seconds: round(elapsed),
    windowsPerSecond: round(windows / elapsed),
    perWindowMs: round((flushSeconds / Math.max(1, windows)) * 1000, 3),
    perSendUs: round((flushSeconds / Math.max(1, report.updates + report.awareness)) * 1e6, 2),
    fanoutShareOfCore: round(flushSeconds / elapsed, 3),
    edgeEventLoopUtilization: round(loop.utilization, 3),
    perClientPerSecond: {
      updateMessages: round(report.updates / clients / elapsed),
      awarenessMessages: round(report.awareness / clients / elapsed),
      bytes: Math.round(report.bytes / clients / elapsed),
    },
  };
  console.log(JSON.stringify(result, null, 2));
} finally {
  await cluster.stop();
}

function round(value: number, digits = 1): number {
  return Number(value.toFixed(digits));
}

async function histogram(metric: { get(): Promise<{ values: { metricName?: string; value: number }[] }> }): Promise<{ sum: number; count: number }> {
  const { values: rows } = await metric.get();
  return {
    sum: rows.find((row) => row.metricName?.endsWith("_sum"))?.value ?? 0,
    count: rows.find((row) => row.metricName?.endsWith("_count"))?.value ?? 0,
  };
}

/** As the load generator does: Node 20 does not apply `--import tsx` to a worker's own entry. */
function startWorker(plan: ClientsPlan): Worker {
  const tsx = import.meta.resolve("tsx/esm/api");
  const entry = new URL("./fanout-clients.ts", import.meta.url).href;
  const bootstrap = `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(bootstrap, { eval: true, workerData: plan, name: "fanout-clients" });
}

function next(worker: Worker, type: string): Promise<{ type: string; report?: unknown }> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: { type: string }) => {
      if (message.type !== type) return;
      worker.off("message", onMessage);
      resolve(message);
    };
    worker.on("message", onMessage);
    worker.once("error", reject);
    worker.once("exit", (code) => reject(new Error(`bench:fanout: the clients' worker exited (${code}) before "${type}"`)));
  });
}
