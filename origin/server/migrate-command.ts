// `npm run db:migrate`: applies prisma/migrations to DATABASE_URL, or to the
// embedded PGlite in WEIRWOOD_DATA_DIR/pglite when DATABASE_URL is unset.
import { databaseTarget, openDatabase } from "../db";
import { originConfigFromEnv } from "../config";

const config = originConfigFromEnv();
const db = await openDatabase(databaseTarget(config));
try {
  const { applied, alreadyApplied } = await db.migrate();
  for (const name of applied) console.log(`applied   ${name}`);
  console.log(`${db.location}: ${applied.length} applied, ${alreadyApplied.length} already applied`);
} catch (error) {
  console.error(`db:migrate failed on ${db.location}: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  await db.close();
}
