import type { z } from "zod";

/** process.env, or any plain record of variables (tests). */
export type Environment = Record<string, string | undefined>;

export class ConfigError extends Error {
  override name = "ConfigError";
}

/**
 * Parses environment variables with a zod schema and turns the first problems
 * into one message that names each variable and the value it got, e.g.
 * `config: EDGE_FLUSH_MS must be a positive integer, got "abc"`.
 */
export function parseEnv<Schema extends z.ZodType>(
  schema: Schema,
  env: Environment,
  component: string,
): z.infer<Schema> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const variable = issue.path.join(".");
    const value = env[variable];
    const got = value === undefined ? "nothing" : JSON.stringify(value);
    return `${variable} ${issue.message}, got ${got}`;
  });
  throw new ConfigError(`config (${component}): ${problems.join("; ")}`);
}

