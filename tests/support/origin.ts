import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { originConfigFromEnv } from "../../origin/config";
import { type Origin, startOrigin } from "../../origin/runtime";
import type { TestDatabaseKind } from "./databases";

export interface TestOrigin extends Origin {
  /** Headers an edge sends to internal endpoints. */
  edgeHeaders: Record<string, string>;
}

/** An origin over a fresh database of `kind`, with its keys in a temporary folder. */
export async function startTestOrigin(kind: TestDatabaseKind, env: Record<string, string> = {}): Promise<TestOrigin> {
  const dataDir = await mkdtemp(path.join(tmpdir(), "weirwood-origin-"));
  const config = originConfigFromEnv({
    WEIRWOOD_DATA_DIR: dataDir,
    LOG_LEVEL: "silent",
    // Every test client is 127.0.0.1 and many register dozens of accounts;
    // the limits' and the hashes' own tests set these themselves.
    ORIGIN_REGISTRATIONS_PER_ADDRESS: "0",
    ORIGIN_SCRYPT_LOG_N: "14",
    ...env,
  });
  const origin = await startOrigin(config, { database: await kind.open() });
  return {
    ...origin,
    edgeHeaders: { authorization: `Bearer ${origin.serviceSecret}`, "content-type": "application/json" },
    async close() {
      await origin.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
