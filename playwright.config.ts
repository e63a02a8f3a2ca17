import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { defineConfig } from "@playwright/test";

/**
 * The wiki's browser tests: Debian's Chromium against the embedded server of
 * `npm start` (the wiki, the origin and two PoPs of real edge replicas) on
 * free ports with a fresh data folder (embedded PGlite, generated keys).
 * Build first: `npm run test:e2e` does. Playwright evaluates this file in the runner
 * and again in each worker: the port and folder are chosen once and handed
 * on through the environment.
 */
function freePort(): string {
  return execFileSync(process.execPath, [
    "-e",
    "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{process.stdout.write(String(s.address().port));s.close()})",
  ]).toString();
}

if (!process.env.WEIRWOOD_E2E_BASE_URL) {
  process.env.WEIRWOOD_E2E_BASE_URL = `http://127.0.0.1:${freePort()}`;
}
if (!process.env.WEIRWOOD_E2E_DATA_DIR) {
  process.env.WEIRWOOD_E2E_DATA_DIR = mkdtempSync(path.join(tmpdir(), "weirwood-e2e-"));
  process.env.WEIRWOOD_E2E_OWN_DATA_DIR = "1";
}
// The edges' first port; the ones after it are assumed free too.
process.env.WEIRWOOD_E2E_EDGE_BASE_PORT ??= freePort();
// Real edges unless told otherwise; a replica is stopped through its own
// POST /drain, authenticated with the data folder's edge service secret.
process.env.WEIRWOOD_E2E_LIVE_EDGES ??= "1";
process.env.WEIRWOOD_E2E_STOP_REPLICA ??=
  `curl -fsS -X POST -H "authorization: Bearer $(cat '${process.env.WEIRWOOD_E2E_DATA_DIR}/keys/edge-service-secret')" ` +
  `"$(curl -fsS ${process.env.WEIRWOOD_E2E_BASE_URL}/api/edges | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const e=JSON.parse(s).find(x=>x.replica==="{replica}");process.stdout.write(e.url.replace(/^ws/,"http"))})')/drain"`;
const baseURL = process.env.WEIRWOOD_E2E_BASE_URL;
const port = new URL(baseURL).port;
const dataDir = process.env.WEIRWOOD_E2E_DATA_DIR;

// Debian's Chromium (ENVIRONMENT.md); elsewhere, Playwright's own browser.
const executablePath = process.env.CHROMIUM_PATH ?? (existsSync("/usr/bin/chromium") ? "/usr/bin/chromium" : undefined);

export default defineConfig({
  testDir: "e2e",
  testIgnore: ["load/**", "support/**"],
  timeout: 30_000,
  expect: { timeout: 7_000 },
  fullyParallel: true,
  workers: 2,
  forbidOnly: Boolean(process.env.CI),
  reporter: [["list"]],
  outputDir: "test-results/e2e",
  globalTeardown: "./e2e/global.teardown.ts",
  use: {
    baseURL,
    trace: "retain-on-failure",
    launchOptions: {
      executablePath,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
      ],
    },
  },
  projects: [
    { name: "setup", testMatch: /global\.setup\.ts/ },
    { name: "chromium", dependencies: ["setup"], testMatch: /.*\.spec\.ts/, testIgnore: /spike\.spec\.ts/ },
    // The spike loads every replica: after the rest, since some of those stop replicas of the shared server.
    { name: "spike", dependencies: ["chromium"], testMatch: /spike\.spec\.ts/ },
  ],
  webServer: {
    // WEIRWOOD_E2E_SERVER starts something else on the same port and data
    // folder, e.g. "npm start" (the embedded server with two PoPs of edges)
    // for live-edge.spec.ts with WEIRWOOD_E2E_LIVE_EDGES=1.
    command: process.env.WEIRWOOD_E2E_SERVER ?? "node --import tsx launcher/embedded.ts",
    url: `${baseURL}/api/jwks`,
    env: {
      WEIRWOOD_DATA_DIR: dataDir,
      NEXT_TELEMETRY_DISABLED: "1",
      LOG_LEVEL: "warn",
      HOST: "127.0.0.1",
      PORT: port,
      EDGE_BASE_PORT: process.env.WEIRWOOD_E2E_EDGE_BASE_PORT,
      // Every browser of the suite registers from 127.0.0.1, dozens of accounts in all,
      // each a 0.6 s hash at the default cost on a shared 2-core machine; the
      // cost and the limits have their own tests (origin/auth/*.test.ts).
      ORIGIN_REGISTRATIONS_PER_ADDRESS: "0",
      ORIGIN_SCRYPT_LOG_N: "14",
    },
    timeout: 60_000,
    reuseExistingServer: false,
    stdout: "ignore",
    stderr: "pipe",
  },
});
