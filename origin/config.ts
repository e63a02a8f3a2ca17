import path from "node:path";
import { z } from "zod";
import { type Environment, parseEnv } from "../common/env";

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
    .default(10_000)
    .describe("a hot page's text, search vector, links and history lag its newest flush by at most about this much"),
  ORIGIN_TEXT_QUIET_MS: z.coerce
    .number()
    .int()
    .nonnegative()
    .default(1_000)
    .describe("a page not flushed for this long has its text refreshed at once"),
  ORIGIN_TOKEN_TTL_S: z.coerce.number().int().positive().default(15 * 60),
  ORIGIN_SESSION_TTL_S: z.coerce.number().int().positive().default(14 * 24 * 3600),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
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
  tokenTtlSeconds: number;
  sessionTtlSeconds: number;
  logLevel: OriginEnv["LOG_LEVEL"];
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
    tokenTtlSeconds: parsed.ORIGIN_TOKEN_TTL_S,
    sessionTtlSeconds: parsed.ORIGIN_SESSION_TTL_S,
    logLevel: parsed.LOG_LEVEL,
  };
}
