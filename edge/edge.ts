import { readFile } from "node:fs/promises";
import type { Logger } from "../common/logger";
import { AddressLimiter } from "./reads/address-limiter";
import { advertisedUrls } from "./advertised-urls";
import { answerKeyRequests, keysFromPeers } from "./auth/key-sharing";
import { createTokenVerifier, type TokenVerifier } from "./auth/verifier";
import type { Broker } from "../broker/broker";
import type { EdgeConfig } from "./config";
import { createOriginClient, type OriginClient } from "./origin-sync/origin-client";
import { Replica } from "./replica";
import { listen, serveReplica } from "./server";

/** How long a replica that cannot reach the origin waits for a peer's copy of the signing keys. */
const PEER_KEYS_TIMEOUT_MS = 1_000;

export interface RunningEdge {
  readonly replica: Replica;
  readonly origin: OriginClient;
  /** ws:// base a y-websocket provider takes. */
  readonly url: string;
  readonly httpUrl: string;
  /** SIGTERM: stop taking edits, hand state to peers, flush, close. */
  drain(): Promise<void>;
  /** Stops without draining (tests; or after drain). */
  close(): Promise<void>;
}

export interface EdgeDeps {
  broker: Broker;
  /** The edge service secret; read from config when absent. */
  serviceSecret?: string;
  verifier?: TokenVerifier;
  processMetrics?: boolean;
  log?: Logger;
}

/** Starts one edge replica: binds its port, joins its PoP, serves clients. */
export async function startEdge(config: EdgeConfig, deps: EdgeDeps): Promise<RunningEdge> {
  const serviceSecret = deps.serviceSecret ?? (await readServiceSecret(config));
  const { server, port } = await listen(config.host, config.port);
  const { ws: url, http: httpUrl } = advertisedUrls(config.host, port, config.publicUrl);
  const origin = createOriginClient({ originUrl: config.originUrl, serviceSecret });
  const verifier =
    deps.verifier ??
    createTokenVerifier({ jwksUrl: `${config.originUrl}/.well-known/jwks.json`, peerKeys: () => keysFromPeers(deps.broker, PEER_KEYS_TIMEOUT_MS) });
  const replica = new Replica({
    config,
    broker: deps.broker,
    origin,
    urls: { ws: url, http: httpUrl },
    processMetrics: deps.processMetrics ?? false,
    log: deps.log,
  });
  let drain: () => Promise<void> = async () => {};
  const listener = serveReplica(server, replica, verifier, {
    drain: { secret: serviceSecret, run: () => drain() },
    maxConnections: config.maxConnections,
    maxMessageBytes: config.maxMessageBytes,
    pageReads: {
      heldPage: (slug) => replica.heldPage(slug),
      limiter: config.rateLimit ? new AddressLimiter({ perSecond: config.pageReadRate, burst: config.pageReadBurst }) : undefined,
      cache: config.pageCache,
      answered: (answer) => replica.metrics.pageReads.inc({ answer }),
    },
    // Ready = can take edits: the broker answers and tokens can be verified
    // (keys from the origin or, while it is down, from a peer). An origin
    // that is down does not make edges unready: taking edits then is their job.
    ready: async () => {
      await deps.broker.ping();
      if (verifier.heldKeySet() === undefined) await verifier.loadKeys();
      return !replica.isDraining;
    },
  });
  try {
    await replica.start();
  } catch (error) {
    await listener.close();
    throw error;
  }
  const stopAnsweringKeys = answerKeyRequests(deps.broker, verifier, replica.log);
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    stopAnsweringKeys();
    await listener.close();
    await replica.stop();
  };
  drain = async () => {
    await replica.drain();
    await close();
  };
  return { replica, origin, url, httpUrl, drain: () => drain(), close };
}

async function readServiceSecret(config: EdgeConfig): Promise<string> {
  if (config.serviceSecret) return config.serviceSecret;
  if (!config.serviceSecretFile) {
    throw new Error("config (edge): set EDGE_SERVICE_SECRET or EDGE_SERVICE_SECRET_FILE to the origin's edge service secret");
  }
  try {
    return (await readFile(config.serviceSecretFile, "utf8")).trim();
  } catch (error) {
    throw new Error(`EDGE_SERVICE_SECRET_FILE: cannot read ${config.serviceSecretFile} (${(error as Error).message})`, { cause: error });
  }
}
