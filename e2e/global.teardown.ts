import { rm } from "node:fs/promises";

/** Removes the temporary data folder playwright.config.ts made for this run. */
export default async function globalTeardown(): Promise<void> {
  const dir = process.env.WEIRWOOD_E2E_DATA_DIR;
  if (dir && process.env.WEIRWOOD_E2E_OWN_DATA_DIR === "1") await rm(dir, { recursive: true, force: true });
}
