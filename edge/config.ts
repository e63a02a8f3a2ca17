import { randomBytes } from "node:crypto";
import { z } from "zod";
import { ConfigError, type Environment, parseEnv } from "../common/env";
import { ORIGIN_POP } from "../protocol/envelope";
import { DEFAULT_MAX_PAGE_BYTES } from "../protocol/limits";
import { DURABILITY_LEVELS, type DurabilityLevel } from "../protocol/messages";

const ms = (fallback: number) => z.coerce.number().int().positive("must be a positive integer (milliseconds)").default(fallback);
const count = (fallback: number) => z.coerce.number().int().positive("must be a positive integer").default(fallback);

/** Every setting of one edge replica, from its environment (docs/configuration.md). */
export const edgeEnvSchema = z.object({
  EDGE_POP: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "must be a PoP name such as us-east (lower-case letters, digits, '-')")
    .refine((pop) => pop !== ORIGIN_POP, `must not be "${ORIGIN_POP}": the origin's own notices name it`),
  EDGE_REPLICA: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/, "must be letters, digits, '_' or '-'").optional(),
  EDGE_HOST: z.string().min(1).default("127.0.0.1"),
  EDGE_PORT: z.coerce.number().int().min(0).max(65535, "must be a TCP port (0 picks a free one)").default(0),
  EDGE_PUBLIC_URL: z.url({ protocol: /^wss?$/, error: "must be a ws:// or wss:// URL" }).optional(),
  ORIGIN_URL: z.url({ protocol: /^https?$/, error: "must be an http:// or https:// URL" }).default("http://127.0.0.1:3000"),
  EDGE_SERVICE_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
  EDGE_SERVICE_SECRET_FILE: z.string().min(1).optional(),
  // One URL, or the PoP's servers comma-separated, tried in that order.
  NATS_URL: z
    .string()
    .min(1)
    .refine(
      (value) => value.split(",").every((url) => /^\S+$/.test(url.trim())),
      "must be NATS server URLs, comma-separated (e.g. nats://127.0.0.1:4251,nats://127.0.0.1:4252)",
    )
    .optional(),
  EDGE_DURABILITY: z.enum(DURABILITY_LEVELS as [DurabilityLevel, ...DurabilityLevel[]]).default("edge"),
  EDGE_LOG_REPLICAS: z.coerce.number().int().min(1).max(5).default(1),
  EDGE_LOG_MAX_BYTES: z.coerce.number().int().min(0).default(1024 * 1024 * 1024),
  EDGE_LOG_MAX_AGE_S: z.coerce.number().int().min(0).default(7 * 24 * 3600),
  EDGE_FLUSH_MS: ms(2000),
  // Half the origin's default ORIGIN_MAX_BATCH_BYTES (8 MiB): room for JSON and base64 around a 2 MiB page.
  EDGE_FLUSH_MAX_BYTES: z.coerce.number().int().min(16 * 1024, "must be at least 16384 (bytes)").default(4 * 1024 * 1024),
  EDGE_MAX_PAGE_BYTES: count(DEFAULT_MAX_PAGE_BYTES),
  EDGE_HEARTBEAT_MS: ms(1000),
  EDGE_MEMBER_EXPIRY_MS: ms(3500),
  EDGE_ANTI_ENTROPY_MS: ms(10_000),
  EDGE_BROKER_STATS_MS: ms(5000),
  EDGE_BOOTSTRAP_TIMEOUT_MS: ms(500),
  EDGE_IDLE_EVICT_MS: ms(60_000),
  EDGE_DRAIN_TIMEOUT_MS: ms(10_000),
  EDGE_CROSS_POP_RELAY: z.enum(["on", "off"]).default("on"),
  EDGE_FANOUT_WINDOW_MS: z.coerce.number().int().min(0).max(1000, "must be at most 1000 (milliseconds)").default(5),
  // Unset: 25 ms when EDGE_FANOUT_WINDOW_MS is unset too, else that window (fixed).
  EDGE_FANOUT_WINDOW_MAX_MS: z.coerce.number().int().min(0).max(1000, "must be at most 1000 (milliseconds)").optional(),
  EDGE_FANOUT_SENDS_PER_SEC: count(20_000),
  EDGE_FANOUT_MAX_BYTES: count(64 * 1024),
  EDGE_CLIENT_PAUSE_BYTES: count(256 * 1024),
  EDGE_CLIENT_CLOSE_BYTES: count(16 * 1024 * 1024),
  EDGE_CLIENT_BEHIND_MS: ms(20_000),
  EDGE_CLIENTS_BUFFERED_BYTES: count(256 * 1024 * 1024),
  EDGE_AWARENESS_TIMEOUT_MS: ms(30_000),
  EDGE_AWARENESS_RATE: count(10),
  EDGE_AWARENESS_BURST: count(20),
  EDGE_MAX_AWARENESS_BYTES: count(8192),
  EDGE_MAX_PAGES: count(5000),
  EDGE_MAX_CONNECTIONS: count(20_000),
  EDGE_MAX_MESSAGE_BYTES: count(1024 * 1024),
  EDGE_MAX_UNFLUSHED_BYTES: count(256 * 1024 * 1024),
  EDGE_RATE_LIMIT: z.enum(["on", "off"]).default("on"),
  EDGE_FLOOD_CLOSE_MS: ms(20_000),
  EDGE_TOKEN_GRACE_MS: ms(30_000),
  EDGE_BLOCK_RECHECK_MS: ms(5000),
  EDGE_READ_RATE: count(5),
  EDGE_READ_BURST: count(20),
  // GET /pages/:slug per client address (edge/page-reads.ts), and how shared caches may keep its answers.
  EDGE_PAGE_READ_RATE: count(20),
  EDGE_PAGE_READ_BURST: count(60),
  EDGE_PAGE_MAX_AGE_S: count(5),
  EDGE_PAGE_STALE_S: count(60),
  EDGE_MAX_QUEUED_MESSAGES: count(512),
  EDGE_MAX_QUEUED_BYTES: count(8 * 1024 * 1024),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});

export interface EdgeConfig {
  pop: string;
  replica: string;
  host: string;
  port: number;
  /** The ws:// base clients connect to; derived from host and port when unset. */
  publicUrl: string | undefined;
  originUrl: string;
  serviceSecret: string | undefined;
  serviceSecretFile: string | undefined;
  natsUrl: string | undefined;
  /** NATS_URL's servers, in the order the replica tries them. */
  natsServers: string[];
  durability: DurabilityLevel;
  logReplicas: number;
  /** Bounds of the PoP log's stream (0: none); at the bound it refuses appends, never drops entries. */
  logMaxBytes: number;
  logMaxAgeMs: number;
  flushMs: number;
  /** Largest flush request body; a page's diff over it goes alone, in parts. */
  flushMaxBytes: number;
  /** Largest encoded Yjs state of a page a client may grow it to (update-check.ts). */
  maxPageBytes: number;
  heartbeatMs: number;
  memberExpiryMs: number;
  antiEntropyMs: number;
  /** How often the broker round trip and the PoP log's entry count are measured for /metrics. */
  brokerStatsMs: number;
  bootstrapTimeoutMs: number;
  idleEvictMs: number;
  drainTimeoutMs: number;
  /** Updates of a page are merged over this window before going to its clients. */
  fanoutWindowMs: number;
  /** Relay clients' updates live to the other PoPs holding the page (subjects.pageRelay). */
  crossPopRelay: boolean;
  fanoutMaxBytes: number;
  /** A page's window grows with its clients up to this, so that it costs about `fanoutSendsPerSecond` socket writes (fanout.ts). */
  fanoutWindowMaxMs: number;
  fanoutSendsPerSecond: number;
  /** A client whose socket holds more than this stops getting fan-out until it drains (slow-clients.ts). */
  clientPauseBytes: number;
  /** A client whose socket holds more than this is closed (4508), whatever else. */
  clientCloseBytes: number;
  /** A client paused longer than this is closed (4508). */
  clientBehindMs: number;
  /** Over this many bytes buffered for all clients together, clients pause at a quarter of `clientPauseBytes`. */
  clientsBufferedBytes: number;
  /** A client's presence not renewed for this long is removed (y-protocols' outdatedTimeout is 30 s). */
  awarenessTimeoutMs: number;
  /** Awareness updates a connection may send per second, and at once; the excess waits, merged to the newest. */
  awarenessRate: number;
  awarenessBurst: number;
  /** Largest awareness state of one client, in bytes of its JSON. */
  maxAwarenessBytes: number;
  maxPages: number;
  maxConnections: number;
  maxMessageBytes: number;
  maxUnflushedBytes: number;
  rateLimit: boolean;
  /** A connection held back by the edit rate without a break for longer than this is closed (4529); shorter bursts are only slowed. */
  floodCloseMs: number;
  /** How long past its token's expiry an open connection lives on (then CloseCode.tokenExpired). */
  tokenGraceMs: number;
  /** How often the replica re-reads the origin's list of blocked accounts: the bound on enforcing a block whose broker notice was lost. */
  blockRecheckMs: number;
  /** Sync step 1 and awareness queries per connection: per second, and at once (edge/clients/token-bucket.ts). */
  readRate: number;
  readBurst: number;
  /** GET /pages/:slug per client address: per second, and at once (off with rateLimit). */
  pageReadRate: number;
  pageReadBurst: number;
  /** s-maxage and stale-while-revalidate of page reads, in seconds: the origin's ORIGIN_PAGE_MAX_AGE_S and ORIGIN_PAGE_STALE_S. */
  pageCache: { maxAgeSeconds: number; staleSeconds: number };
  /** What a connection may have queued (before its token is checked, while its page loads, behind a held edit). */
  maxQueuedMessages: number;
  maxQueuedBytes: number;
  logLevel: string;
}

export function edgeConfigFromEnv(env: Environment): EdgeConfig {
  const parsed = parseEnv(edgeEnvSchema, env, "edge");
  if (parsed.EDGE_CLIENT_PAUSE_BYTES >= parsed.EDGE_CLIENT_CLOSE_BYTES) {
    // A client must be able to pause (and catch up) before it is closed for the same backlog.
    throw new ConfigError(
      `config (edge): EDGE_CLIENT_PAUSE_BYTES (${parsed.EDGE_CLIENT_PAUSE_BYTES}) must be below EDGE_CLIENT_CLOSE_BYTES (${parsed.EDGE_CLIENT_CLOSE_BYTES})`,
    );
  }
  if (parsed.EDGE_FANOUT_WINDOW_MAX_MS !== undefined && parsed.EDGE_FANOUT_WINDOW_MAX_MS < parsed.EDGE_FANOUT_WINDOW_MS) {
    throw new ConfigError(
      `config (edge): EDGE_FANOUT_WINDOW_MAX_MS (${parsed.EDGE_FANOUT_WINDOW_MAX_MS}) must be at least EDGE_FANOUT_WINDOW_MS (${parsed.EDGE_FANOUT_WINDOW_MS})`,
    );
  }
  return {
    pop: parsed.EDGE_POP,
    replica: parsed.EDGE_REPLICA ?? `${parsed.EDGE_POP}-${randomBytes(3).toString("hex")}`,
    host: parsed.EDGE_HOST,
    port: parsed.EDGE_PORT,
    publicUrl: parsed.EDGE_PUBLIC_URL,
    originUrl: parsed.ORIGIN_URL.replace(/\/$/, ""),
    serviceSecret: parsed.EDGE_SERVICE_SECRET,
    serviceSecretFile: parsed.EDGE_SERVICE_SECRET_FILE,
    natsUrl: parsed.NATS_URL,
    natsServers: parsed.NATS_URL?.split(",").map((url) => url.trim()) ?? [],
    durability: parsed.EDGE_DURABILITY,
    logReplicas: parsed.EDGE_LOG_REPLICAS,
    logMaxBytes: parsed.EDGE_LOG_MAX_BYTES,
    logMaxAgeMs: parsed.EDGE_LOG_MAX_AGE_S * 1000,
    flushMs: parsed.EDGE_FLUSH_MS,
    flushMaxBytes: parsed.EDGE_FLUSH_MAX_BYTES,
    maxPageBytes: parsed.EDGE_MAX_PAGE_BYTES,
    heartbeatMs: parsed.EDGE_HEARTBEAT_MS,
    memberExpiryMs: parsed.EDGE_MEMBER_EXPIRY_MS,
    antiEntropyMs: parsed.EDGE_ANTI_ENTROPY_MS,
    brokerStatsMs: parsed.EDGE_BROKER_STATS_MS,
    bootstrapTimeoutMs: parsed.EDGE_BOOTSTRAP_TIMEOUT_MS,
    idleEvictMs: parsed.EDGE_IDLE_EVICT_MS,
    drainTimeoutMs: parsed.EDGE_DRAIN_TIMEOUT_MS,
    fanoutWindowMs: parsed.EDGE_FANOUT_WINDOW_MS,
    // Whoever sets the window alone asked for that window: it stays fixed.
    fanoutWindowMaxMs: parsed.EDGE_FANOUT_WINDOW_MAX_MS ?? (!env.EDGE_FANOUT_WINDOW_MS?.trim() ? 25 : parsed.EDGE_FANOUT_WINDOW_MS),
    fanoutSendsPerSecond: parsed.EDGE_FANOUT_SENDS_PER_SEC,
    crossPopRelay: parsed.EDGE_CROSS_POP_RELAY === "on",
    fanoutMaxBytes: parsed.EDGE_FANOUT_MAX_BYTES,
    clientPauseBytes: parsed.EDGE_CLIENT_PAUSE_BYTES,
    clientCloseBytes: parsed.EDGE_CLIENT_CLOSE_BYTES,
    clientBehindMs: parsed.EDGE_CLIENT_BEHIND_MS,
    clientsBufferedBytes: parsed.EDGE_CLIENTS_BUFFERED_BYTES,
    awarenessTimeoutMs: parsed.EDGE_AWARENESS_TIMEOUT_MS,
    awarenessRate: parsed.EDGE_AWARENESS_RATE,
    awarenessBurst: parsed.EDGE_AWARENESS_BURST,
    maxAwarenessBytes: parsed.EDGE_MAX_AWARENESS_BYTES,
    maxPages: parsed.EDGE_MAX_PAGES,
    maxConnections: parsed.EDGE_MAX_CONNECTIONS,
    maxMessageBytes: parsed.EDGE_MAX_MESSAGE_BYTES,
    maxUnflushedBytes: parsed.EDGE_MAX_UNFLUSHED_BYTES,
    rateLimit: parsed.EDGE_RATE_LIMIT === "on",
    floodCloseMs: parsed.EDGE_FLOOD_CLOSE_MS,
    tokenGraceMs: parsed.EDGE_TOKEN_GRACE_MS,
    blockRecheckMs: parsed.EDGE_BLOCK_RECHECK_MS,
    readRate: parsed.EDGE_READ_RATE,
    readBurst: parsed.EDGE_READ_BURST,
    pageReadRate: parsed.EDGE_PAGE_READ_RATE,
    pageReadBurst: parsed.EDGE_PAGE_READ_BURST,
    pageCache: { maxAgeSeconds: parsed.EDGE_PAGE_MAX_AGE_S, staleSeconds: parsed.EDGE_PAGE_STALE_S },
    maxQueuedMessages: parsed.EDGE_MAX_QUEUED_MESSAGES,
    maxQueuedBytes: parsed.EDGE_MAX_QUEUED_BYTES,
    logLevel: parsed.LOG_LEVEL,
  };
}
