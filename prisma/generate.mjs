// `prisma generate` without network access. Every Prisma 7 CLI command first
// downloads its schema engine binary, which fails offline; generate never runs
// that engine, so pointing it at /bin/true lets it proceed. Do not use this
// trick for migrate/db commands: they then print success and do nothing
// (docs/troubleshooting.md). Migrations: `npm run db:migrate`.
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const cli = require.resolve("prisma/build/index.js");
const result = spawnSync(process.execPath, [cli, "generate"], {
  stdio: ["ignore", "inherit", "inherit"],
  env: {
    ...process.env,
    PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? "/bin/true",
    PRISMA_HIDE_UPDATE_MESSAGE: "1",
    CHECKPOINT_DISABLE: "1",
  },
});
process.exit(result.status ?? 1);
