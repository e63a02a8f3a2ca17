import type { Broker } from "../../broker/broker";
import { connectNats } from "../../broker/nats";
import { linkOriginToBroker } from "../../origin/broker-link";
import { serveOrigin } from "../../origin/http/node-adapter";
import type { TestDatabaseKind } from "./databases";
import { startTestOrigin, type TestOrigin } from "./origin";

/**
 * An origin as the self-hosting guide runs it beside a NATS topology: its
 * HTTP API served, linked to the hub (NATS_URL of origin.env), and one
 * registered user whose edge token the test writes with.
 */
export interface HubOrigin {
  origin: TestOrigin;
  url: string;
  token: string;
  close(): Promise<void>;
}

export async function startHubOrigin(database: TestDatabaseKind, hubUrl: string, user: { name: string; password: string }): Promise<HubOrigin> {
  const origin = await startTestOrigin(database);
  const served = await serveOrigin(origin);
  const broker: Broker = await connectNats({ servers: hubUrl, name: "origin", reconnectWaitMs: 200 });
  linkOriginToBroker(origin, broker);
  const response = await fetch(`${served.url}/api/auth/register`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(user),
  });
  const body = (await response.json()) as { token?: string };
  if (!response.ok || !body.token) throw new Error(`registering ${user.name} at ${served.url} answered ${response.status}: ${JSON.stringify(body)}`);
  return {
    origin,
    url: served.url,
    token: body.token,
    async close() {
      await broker.close();
      await served.close();
      await origin.close();
    },
  };
}
