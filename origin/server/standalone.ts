// `npm run origin`: the Next.js wiki and the origin as one process, for
// self-hosting beside separately run edges (`npm run edge`). With NATS_URL
// it announces committed pages to the PoPs and learns the live edges from
// their heartbeats (GET /api/edges).
import { ConfigError } from "../../common/env";
import { createLogger } from "../../common/logger";
import { connectNats } from "../../broker/nats";
import { linkOriginToBroker } from "../broker-link";
import { originConfigFromEnv } from "../config";
import { installOrigin, startOrigin } from "../runtime";
import { embeddedConfigFromEnv } from "./embedded-config";
import { serveNext } from "./next-host";

const log = createLogger("origin", process.env.LOG_LEVEL ?? "info");

async function main(): Promise<void> {
  const { host, port } = embeddedConfigFromEnv(process.env);
  const origin = await startOrigin(originConfigFromEnv(process.env));
  installOrigin(origin);
  const natsUrl = process.env.NATS_URL;
  const broker = natsUrl ? await connectNats({ servers: natsUrl, name: "origin" }) : undefined;
  const unlink = broker ? linkOriginToBroker(origin, broker) : () => {};
  if (!broker) log.warn("NATS_URL is not set: the origin will not tell PoPs about commits, and GET /api/edges answers 503");
  const web = await serveNext({ host, port, origin });
  log.info({ url: `http://${host}:${port}`, database: origin.db.location, broker: natsUrl ?? "none" }, "origin listening");
  console.log(JSON.stringify({ event: "origin-ready", url: `http://${host}:${port}` }));

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    unlink();
    await web.close();
    await broker?.close();
    await origin.close();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop());
  process.on("SIGTERM", () => void stop());
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) console.error(error.message);
  else log.fatal({ err: error }, "origin failed to start");
  process.exit(1);
});
