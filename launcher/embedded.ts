// `npm start`: the whole Weirwood in one process tree on one machine — the
// Next.js wiki with the origin, an embedded PGlite (unless DATABASE_URL is
// set), the in-process broker, and two PoPs of two edge replicas each.
// Ctrl-C drains the edges (they flush first), then stops the rest.
import { ConfigError } from "../common/env";
import { createLogger } from "../common/logger";
import { createMemoryBus } from "../broker/memory";
import { edgeConfigFromEnv } from "../edge/config";
import { type RunningEdge, startEdge } from "../edge/edge";
import { linkOriginToBroker } from "../origin/broker-link";
import { originConfigFromEnv } from "../origin/config";
import { installOrigin, startOrigin } from "../origin/runtime";
import { embeddedConfigFromEnv } from "../origin/server/embedded-config";
import { serveNext } from "../origin/server/next-host";

const log = createLogger("weirwood", process.env.LOG_LEVEL ?? "info");

async function main(): Promise<void> {
  const embedded = embeddedConfigFromEnv(process.env);
  const originConfig = originConfigFromEnv(process.env);
  say(`starting the origin (${originConfig.databaseUrl ? "Postgres" : `embedded PGlite in ${originConfig.dataDir}/pglite`})...`);
  const origin = await startOrigin(originConfig);
  installOrigin(origin);
  const bus = createMemoryBus();
  const unlink = linkOriginToBroker(origin, bus.connect("origin"));
  const originUrl = `http://${embedded.host}:${embedded.port}`;
  say("starting the wiki (Next.js)...");
  const web = await serveNext({ host: embedded.host, port: embedded.port, origin });

  const edges: RunningEdge[] = [];
  let port = embedded.edgeBasePort;
  let flushMs = 0;
  for (const pop of embedded.pops) {
    for (let i = 0; i < embedded.replicasPerPop; i++) {
      const replica = `${pop}-${String.fromCharCode(97 + i)}`;
      const config = edgeConfigFromEnv({
        ...process.env,
        EDGE_POP: pop,
        EDGE_REPLICA: replica,
        EDGE_HOST: embedded.host,
        EDGE_PORT: String(port++),
        ORIGIN_URL: originUrl,
      });
      flushMs = config.flushMs;
      say(`starting edge ${replica} on ${config.host}:${config.port}...`);
      edges.push(await startEdge(config, { broker: bus.connect(replica), serviceSecret: origin.serviceSecret, processMetrics: edges.length === 0 }));
    }
  }

  say("");
  say(`Weirwood is running.`);
  say(`  wiki and origin  ${originUrl}   <- open this`);
  say(`  operations view  ${originUrl}/ops   (admins; the first account registered is one)`);
  say(`  database         ${origin.db.location}`);
  say(`  broker           in-process`);
  for (const edge of edges) say(`  edge ${edge.replica.pop.padEnd(10)} ${edge.replica.replica.padEnd(12)} ${edge.url}  (${edge.httpUrl}/metrics)`);
  say(`  durability       ${edges[0]?.replica.durability ?? "edge"}, flush every ${flushMs} ms`);
  say("Ctrl-C stops everything (edges flush first).");
  // A line for programs that start us (tests, the spike harness).
  console.log(JSON.stringify({ event: "weirwood-ready", url: originUrl, edges: edges.map((edge) => ({ pop: edge.replica.pop, replica: edge.replica.replica, url: edge.url })) }));

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    say(`\n${signal}: draining the edges...`);
    await Promise.allSettled(edges.map((edge) => edge.drain()));
    unlink();
    await web.close();
    await origin.close();
    say("stopped.");
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
}

function say(line: string): void {
  process.stderr.write(`${line}\n`);
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) console.error(error.message);
  else log.fatal({ err: error }, "npm start failed");
  process.exit(1);
});
