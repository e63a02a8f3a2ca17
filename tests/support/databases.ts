import pg from "pg";
import { type Database, openDatabase } from "../../origin/db";
import { createScratchDatabase } from "../../prisma/scratch-database";
import { pgliteTemplate, postgresTemplate } from "./database-templates";

/**
 * The databases every origin test runs against, with the same test body:
 * the embedded PGlite and a real Postgres. Postgres is required in CI (and
 * whenever WEIRWOOD_TEST_PG_URL is set): there a missing server fails the
 * run. On a developer machine without one, its tests are skipped with a note.
 */
export const TEST_PG_URL = process.env.WEIRWOOD_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const postgresRequired = Boolean(process.env.CI || process.env.WEIRWOOD_TEST_PG_URL);

export interface TestDatabaseKind {
  name: "pglite" | "postgres";
  /** A fresh database, migrated: a copy of a migrated template. */
  open(): Promise<Database>;
  /** A fresh database migrated from empty, for the migrations' own tests. */
  openMigratedFromEmpty(): Promise<Database>;
}

async function postgresAnswers(): Promise<boolean> {
  const client = new pg.Client({ connectionString: TEST_PG_URL, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query("SELECT 1");
    return true;
  } catch (error) {
    if (postgresRequired) {
      throw new Error(`Postgres at ${TEST_PG_URL} does not answer (${(error as Error).message}); CI needs it: start it (see .ci/run)`, {
        cause: error,
      });
    }
    console.warn(`Postgres at ${TEST_PG_URL} does not answer: skipping its origin tests (CI runs them).`);
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

const pglite: TestDatabaseKind = {
  name: "pglite",
  async open() {
    return openDatabase({ kind: "pglite", dataDir: undefined, loadDataDir: await pgliteTemplate() });
  },
  async openMigratedFromEmpty() {
    const db = await openDatabase({ kind: "pglite", dataDir: undefined });
    await db.migrate();
    return db;
  },
};

/** A fresh database per call, dropped again on close: tests own their data. */
const postgres: TestDatabaseKind = {
  name: "postgres",
  async open() {
    return openPostgres(await postgresTemplate(TEST_PG_URL));
  },
  openMigratedFromEmpty() {
    return openPostgres(undefined);
  },
};

/** A scratch database, a copy of `template` or migrated from empty, dropped again on close. */
async function openPostgres(template: string | undefined): Promise<Database> {
  const scratch = await createScratchDatabase(TEST_PG_URL, "weirwood_test", template);
  const db = await openDatabase({ kind: "postgres", url: scratch.url });
  if (!template) await db.migrate();
  return {
    ...db,
    migrate: db.migrate,
    async close() {
      await db.close();
      await scratch.drop();
    },
  };
}

export const testDatabases: TestDatabaseKind[] = (await postgresAnswers()) ? [pglite, postgres] : [pglite];
