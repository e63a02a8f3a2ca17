import { readFileSync } from "node:fs";
import path from "node:path";

/**
 * Where the wiki under test runs and keeps its data. playwright.config.ts
 * chooses both once, in the runner; workers inherit them in their environment.
 */
export function e2eDataDir(): string {
  const dir = process.env.WEIRWOOD_E2E_DATA_DIR;
  if (!dir) throw new Error("WEIRWOOD_E2E_DATA_DIR is not set: run the e2e tests through playwright.config.ts (npm run test:e2e)");
  return dir;
}

export function originUrl(): string {
  const url = process.env.WEIRWOOD_E2E_BASE_URL;
  if (!url) throw new Error("WEIRWOOD_E2E_BASE_URL is not set: run the e2e tests through playwright.config.ts (npm run test:e2e)");
  return url;
}

/** The edge service secret the origin generated in its data folder on first start. */
export function serviceSecret(): string {
  if (process.env.EDGE_SERVICE_SECRET) return process.env.EDGE_SERVICE_SECRET;
  return readFileSync(path.join(e2eDataDir(), "keys", "edge-service-secret"), "utf8").trim();
}
