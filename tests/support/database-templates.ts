import { createHash, randomBytes } from "node:crypto";
import { readFile, rename, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import { openDatabase } from "../../origin/db";
import { applyMigrations, readMigrations } from "../../prisma/migrate";
import { pgliteSession } from "../../prisma/sql-session";

/**
 * Migrated databases to copy from, so that each test database starts
 * migrated without running the migrations again (on the shared CI machine
 * PGlite's initdb and the migrations cost about a second per database, and
 * the suite opens over a hundred). A template is named by the migrations'
 * names and checksums: editing or adding one makes a new template, never a
 * stale copy. prisma/migrate.test.ts still migrates from empty databases.
 */
async function migrationsKey(): Promise<string> {
  const migrations = await readMigrations();
  const listing = migrations.map((migration) => `${migration.name}:${migration.checksum}`).join("\n");
  return createHash("sha256").update(listing).digest("hex").slice(0, 16);
}

let pgliteDump: Promise<Blob> | undefined;

/**
 * A dump of a migrated in-memory PGlite, kept as a file in the temporary
 * folder for every test file of the run (vitest runs each file in a fresh
 * module graph, so a module-level copy alone would be made once per file).
 */
export function pgliteTemplate(): Promise<Blob> {
  pgliteDump ??= (async () => {
    const file = path.join(tmpdir(), `weirwood-test-pglite-${await migrationsKey()}.tar`);
    const saved = await readFile(file).catch(() => undefined);
    if (saved) return new Blob([saved]);
    const pglite = await PGlite.create("memory://");
    try {
      await applyMigrations(pgliteSession(pglite));
      const dump = await pglite.dumpDataDir("none");
      // Written aside and renamed: a file read by another worker is whole.
      const partial = `${file}.${randomBytes(4).toString("hex")}`;
      await writeFile(partial, Buffer.from(await dump.arrayBuffer()));
      await rename(partial, file);
      return dump;
    } finally {
      await pglite.close();
    }
  })();
  return pgliteDump;
}

// Any fixed number: test processes making the same template take turns.
const TEMPLATE_LOCK_KEY = 72_707_370;
let postgresTemplateName: Promise<string> | undefined;

/**
 * The name of a migrated database on the Postgres at `serverUrl`, made once
 * per migrations fingerprint and kept on the server for later runs. Nothing
 * connects to it after it is made: Postgres copies only an unused template.
 */
export function postgresTemplate(serverUrl: string): Promise<string> {
  postgresTemplateName ??= (async () => {
    const name = `weirwood_template_${await migrationsKey()}`;
    const admin = new pg.Client({ connectionString: serverUrl, connectionTimeoutMillis: 5000 });
    await admin.connect();
    try {
      await admin.query("SELECT pg_advisory_lock($1)", [TEMPLATE_LOCK_KEY]);
      const exists = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
      if (exists.rowCount) return name;
      // Made under another name and renamed once migrated: a template that a
      // killed run left half made is never copied.
      const building = `${name}_building`;
      await admin.query(`DROP DATABASE IF EXISTS ${building} WITH (FORCE)`);
      await admin.query(`CREATE DATABASE ${building}`);
      const url = new URL(serverUrl);
      url.pathname = `/${building}`;
      const db = await openDatabase({ kind: "postgres", url: url.toString() });
      try {
        await db.migrate();
      } finally {
        await db.close();
      }
      await admin.query(`ALTER DATABASE ${building} RENAME TO ${name}`);
      return name;
    } finally {
      await admin.query("SELECT pg_advisory_unlock($1)", [TEMPLATE_LOCK_KEY]).catch(() => {});
      await admin.end();
    }
  })();
  return postgresTemplateName;
}
