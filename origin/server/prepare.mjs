// Runs before `npm start` and `npm run origin`: generates the Prisma client
// and builds the Next.js app when they are missing or older than the
// sources, printing what it does, so that a fresh clone starts with one
// command after `npm install`.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";

const SOURCES = ["app", "components", "common", "origin", "edge", "next.config.js", "package-lock.json"];

function newestMtime(entry) {
  if (!existsSync(entry)) return 0;
  const stat = statSync(entry);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = 0;
  for (const child of readdirSync(entry)) {
    if (child === "node_modules" || child === "generated") continue;
    newest = Math.max(newest, newestMtime(path.join(entry, child)));
  }
  return newest;
}

function run(what, command, args) {
  process.stderr.write(`${what}...\n`);
  const started = Date.now();
  const result = spawnSync(command, args, { stdio: ["ignore", "inherit", "inherit"], env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" } });
  if (result.status !== 0) {
    process.stderr.write(`${what} failed (exit ${result.status}); see the output above.\n`);
    process.exit(result.status ?? 1);
  }
  process.stderr.write(`${what}: done in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}

if (!existsSync("origin/generated/prisma/client.ts") || statSync("prisma/schema.prisma").mtimeMs > statSync("origin/generated/prisma/client.ts").mtimeMs) {
  run("generating the Prisma client", process.execPath, ["prisma/generate.mjs"]);
}
const buildId = ".next/BUILD_ID";
const builtAt = existsSync(buildId) ? statSync(buildId).mtimeMs : 0;
if (builtAt === 0 || Math.max(...SOURCES.map(newestMtime)) > builtAt) {
  run(builtAt === 0 ? "building the wiki (first start; about a minute)" : "rebuilding the wiki (sources changed)", process.execPath, [
    "node_modules/next/dist/bin/next",
    "build",
  ]);
}
