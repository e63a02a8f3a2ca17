import { z } from "zod";
import { type Environment, parseEnv } from "../../common/env";

/** Settings of `npm start` itself; origin and edge settings keep their own variables. */
export const embeddedEnvSchema = z.object({
  HOST: z.string().min(1).default("127.0.0.1"),
  PORT: z.coerce.number().int().min(1).max(65535, "must be a TCP port").default(3000),
  EDGE_BASE_PORT: z.coerce.number().int().min(1).max(65000, "must be a TCP port").default(3001),
  WEIRWOOD_POPS: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]*(,[a-z0-9][a-z0-9-]*)*$/, "must be a comma-separated list of PoP names such as us-east,eu-west")
    .default("us-east,eu-west"),
  WEIRWOOD_REPLICAS_PER_POP: z.coerce.number().int().min(1).max(16).default(2),
});

export interface EmbeddedConfig {
  host: string;
  port: number;
  edgeBasePort: number;
  pops: string[];
  replicasPerPop: number;
}

export function embeddedConfigFromEnv(env: Environment): EmbeddedConfig {
  const parsed = parseEnv(embeddedEnvSchema, env, "npm start");
  return {
    host: parsed.HOST,
    port: parsed.PORT,
    edgeBasePort: parsed.EDGE_BASE_PORT,
    pops: parsed.WEIRWOOD_POPS.split(","),
    replicasPerPop: parsed.WEIRWOOD_REPLICAS_PER_POP,
  };
}
