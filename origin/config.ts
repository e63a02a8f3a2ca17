import path from "node:path";
import { z } from "zod";
import { type Environment, parseEnv } from "../common/env";
import type { SearchPersistence } from "./search-persistence";

const count = z.coerce.number().int().nonnegative();
const seconds = z.coerce.number().int().positive();
const list = (item: z.ZodString) =>
  z
    .string()
    .default("")
    .transform((value) => value.split(",").map((part) => part.trim()).filter(Boolean))
    .pipe(z.array(item));

/** Everything the origin reads from its environment, validated once at start-up. */
export const originEnvSchema = z.object({
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, "must be a postgres:// URL")
    .optional()
    .describe("Postgres to use; without it the origin keeps an embedded PGlite in WEIRWOOD_DATA_DIR/pglite"),
  WEIRWOOD_DATA_DIR: z.string().min(1).default("data").describe("folder for the embedded database and generated keys"),
  ORIGIN_SIGNING_KEY_FILE: z
    .string()
    .min(1)
    .optional()
    .describe("PKCS#8 PEM Ed25519 key that signs tokens; generated in WEIRWOOD_DATA_DIR/keys when absent"),
  EDGE_SERVICE_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
  EDGE_SERVICE_SECRET_FILE: z.string().min(1).optional(),
  ORIGIN_MAX_BATCH_BYTES: z.coerce.number().int().positive().default(8 * 1024 * 1024),
  ORIGIN_MAX_PAGE_BYTES: z.coerce.number().int().positive().default(4 * 1024 * 1024),
  ORIGIN_TEXT_REFRESH_MS: z.coerce
    .number()
    .int()
    .positive()
    .default(30_000)
    .describe("a hot page's text, search vector, links and history lag its newest flush by at most about this much"),
  ORIGIN_TEXT_QUIET_MS: z.coerce
    .number()
    .int()
    .nonnegative()
    .default(5_000)
    .describe("a page not flushed for this long (keep it above the edges' EDGE_FLUSH_MS) has its text refreshed at once"),
  ORIGIN_SEARCH_REFRESH_MS: z.coerce
    .number()
    .int()
    .positive()
    .default(300_000)
    .describe("search finds a page under continuous editing by its text as of at most about this long ago"),
  ORIGIN_SEARCH_LOGGED: z
    .enum(["on", "off"])
    .default("off")
    .describe("write the search copies to Postgres's WAL (off: they cost no WAL and are rebuilt after a crash; docs/configuration.md)"),
  ORIGIN_TOKEN_TTL_S: z.coerce.number().int().positive().default(15 * 60),
  ORIGIN_SESSION_TTL_S: z.coerce.number().int().positive().default(14 * 24 * 3600),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  // Accounts and cross-site requests: docs/security.md.
  ORIGIN_LOGIN_FAILURES_PER_ACCOUNT: count.default(10),
  ORIGIN_LOGIN_FAILURES_PER_ADDRESS: count.default(50),
  ORIGIN_LOGIN_FAILURE_WINDOW_S: seconds.default(15 * 60),
  ORIGIN_REGISTRATIONS_PER_ADDRESS: count.default(10),
  ORIGIN_REGISTRATION_WINDOW_S: seconds.default(3600),
  ORIGIN_SCRYPT_LOG_N: z.coerce.number().int().min(10).max(20).default(17),
  ORIGIN_TRUSTED_PROXIES: list(z.string().regex(/^[0-9a-fA-F.:]+$/, "must be IP addresses, comma-separated")),
  ORIGIN_ALLOWED_ORIGINS: list(z.string().regex(/^https?:\/\/[^/]+$/, "must be origins such as https://wiki.example.org, comma-separated")),
  // Shared caches in front of the origin: docs/architecture.md, "Cached reads".
  ORIGIN_PAGE_MAX_AGE_S: count.default(5).describe("how long a shared cache may serve a page view or page read without asking again"),
  ORIGIN_PAGE_STALE_S: count.default(60).describe("how long after that it may serve the stale copy while it revalidates"),
  ORIGIN_RECENT_CHANGES_MAX_AGE_S: count.default(2).describe("the same bound for recent changes, which change with every edit anywhere"),
});

export type OriginEnv = z.infer<typeof originEnvSchema>;

export interface OriginConfig {
  databaseUrl: string | undefined;
  dataDir: string;
  signingKeyFile: string | undefined;
  serviceSecret: string | undefined;
  serviceSecretFile: string | undefined;
  maxBatchBytes: number;
  maxPageBytes: number;
  textRefresh: { refreshMs: number; quietMs: number };
  /** Search copies: a hot page's every refreshMs, a quiet page's with its text refresh (origin/search-refresh.ts). */
  searchRefresh: { refreshMs: number; quietMs: number };
  /** Whether PageSearch is written to the WAL (origin/search-persistence.ts). */
  searchPersistence: SearchPersistence;
  tokenTtlSeconds: number;
  sessionTtlSeconds: number;
  logLevel: OriginEnv["LOG_LEVEL"];
  accounts: AccountLimits;
  /** scrypt's cost N = 2^scryptLogN for new hashes; older hashes are redone at their next login. */
  scryptLogN: number;
  /** Proxies whose X-Forwarded-For/-Proto/-Host are believed; everyone else is the socket's address. */
  trustedProxies: string[];
  /** Other sites whose pages may POST here (Origin header), beside this one. */
  allowedOrigins: string[];
  /** Cache-Control of public reads: s-maxage and stale-while-revalidate, in seconds. */
  publicCache: PublicCachePolicy;
}

export interface PublicCachePolicy {
  pageMaxAgeSeconds: number;
  pageStaleSeconds: number;
  recentChangesMaxAgeSeconds: number;
}

/** How many failures or registrations each key may have within its window; 0 turns a limit off. */
export interface AccountLimits {
  loginFailuresPerAccount: number;
  loginFailuresPerAddress: number;
  loginFailureWindowSeconds: number;
  registrationsPerAddress: number;
  registrationWindowSeconds: number;
}

export function originConfigFromEnv(env: Environment = process.env): OriginConfig {
  const parsed = parseEnv(originEnvSchema, env, "origin");
  return {
    databaseUrl: parsed.DATABASE_URL,
    dataDir: path.resolve(parsed.WEIRWOOD_DATA_DIR),
    signingKeyFile: parsed.ORIGIN_SIGNING_KEY_FILE,
    serviceSecret: parsed.EDGE_SERVICE_SECRET,
    serviceSecretFile: parsed.EDGE_SERVICE_SECRET_FILE,
    maxBatchBytes: parsed.ORIGIN_MAX_BATCH_BYTES,
    maxPageBytes: parsed.ORIGIN_MAX_PAGE_BYTES,
    textRefresh: { refreshMs: parsed.ORIGIN_TEXT_REFRESH_MS, quietMs: parsed.ORIGIN_TEXT_QUIET_MS },
    searchRefresh: { refreshMs: parsed.ORIGIN_SEARCH_REFRESH_MS, quietMs: parsed.ORIGIN_TEXT_QUIET_MS },
    searchPersistence: parsed.ORIGIN_SEARCH_LOGGED === "on" ? "logged" : "unlogged",
    tokenTtlSeconds: parsed.ORIGIN_TOKEN_TTL_S,
    sessionTtlSeconds: parsed.ORIGIN_SESSION_TTL_S,
    logLevel: parsed.LOG_LEVEL,
    accounts: {
      loginFailuresPerAccount: parsed.ORIGIN_LOGIN_FAILURES_PER_ACCOUNT,
      loginFailuresPerAddress: parsed.ORIGIN_LOGIN_FAILURES_PER_ADDRESS,
      loginFailureWindowSeconds: parsed.ORIGIN_LOGIN_FAILURE_WINDOW_S,
      registrationsPerAddress: parsed.ORIGIN_REGISTRATIONS_PER_ADDRESS,
      registrationWindowSeconds: parsed.ORIGIN_REGISTRATION_WINDOW_S,
    },
    scryptLogN: parsed.ORIGIN_SCRYPT_LOG_N,
    trustedProxies: parsed.ORIGIN_TRUSTED_PROXIES.map(normalizeAddress),
    allowedOrigins: parsed.ORIGIN_ALLOWED_ORIGINS.map((origin) => new URL(origin).origin),
    publicCache: {
      pageMaxAgeSeconds: parsed.ORIGIN_PAGE_MAX_AGE_S,
      pageStaleSeconds: parsed.ORIGIN_PAGE_STALE_S,
      recentChangesMaxAgeSeconds: parsed.ORIGIN_RECENT_CHANGES_MAX_AGE_S,
    },
  };
}

/** "::ffff:10.0.0.1", as a dual-stack socket reports an IPv4 peer, is 10.0.0.1. */
export function normalizeAddress(address: string): string {
  const trimmed = address.trim().toLowerCase();
  return trimmed.startsWith("::ffff:") && trimmed.includes(".") ? trimmed.slice(7) : trimmed;
}
