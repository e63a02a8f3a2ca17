// One edge replica as its own process (`npm run edge`): the self-hosted
// shape. Configuration from the environment (docs/configuration.md); the
// broker is NATS (NATS_URL). SIGTERM or SIGINT drains: the replica stops
// taking edits, hands its state to its peers, flushes, and exits 0.
import { createLogger } from "../common/logger";
import { ConfigError } from "../common/env";
import { connectNats } from "../broker/nats";
import { edgeConfigFromEnv } from "./config";
import { startEdge } from "./edge";

const log = createLogger("edge", process.env.LOG_LEVEL ?? "info");

async function main(): Promise<void> {
  const config = edgeConfigFromEnv(process.env);
  if (!config.natsUrl) {
    throw new ConfigError("config (edge): NATS_URL must name the PoP's NATS server(s) (e.g. nats://127.0.0.1:4222, or a comma-separated list) for a standalone edge");
  }
  const broker = await connectNats({ servers: config.natsServers, name: config.replica, logReplicas: config.logReplicas, logMaxBytes: config.logMaxBytes, logMaxAgeMs: config.logMaxAgeMs });
  const edge = await startEdge(config, { broker, processMetrics: true });
  log.info({ pop: config.pop, replica: config.replica, url: edge.url, http: edge.httpUrl, durability: config.durability }, "edge listening");
  // A line for the process that started us (tests, the embedded launcher).
  console.log(JSON.stringify({ event: "edge-ready", pop: config.pop, replica: config.replica, url: edge.url, httpUrl: edge.httpUrl }));

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "draining");
    const deadline = setTimeout(() => {
      log.error("drain did not finish in time; exiting");
      process.exit(1);
    }, config.drainTimeoutMs + 5000);
    try {
      await edge.drain();
      await broker.close();
      clearTimeout(deadline);
      process.exit(0);
    } catch (error) {
      log.error({ err: error }, "drain failed");
      process.exit(1);
    }
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    console.error(error.message);
  } else {
    log.fatal({ err: error }, "edge failed to start");
  }
  process.exit(1);
});
