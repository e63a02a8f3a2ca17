/**
 * `npm run db:diff` prints the SQL that takes the database described by
 * prisma/migrations/ to prisma/schema.prisma (Prisma's own schema engine, as
 * WebAssembly, against an in-memory PGlite: works offline, needs no server).
 *
 *   npm run db:diff                      print the SQL (a comment only when they agree)
 *   npm run db:diff -- --exit-code       same, and exit 2 when there is a difference (CI)
 *   npm run db:diff -- --from-empty      print the SQL that creates the schema from nothing
 *   npm run db:diff -- --create NAME     write prisma/migrations/<YYYYMMDDHHMMSS>_<name>/migration.sql
 *                                        if there is a difference (Prisma's folder format), and
 *                                        prisma/migrations/migration_lock.toml if missing
 *
 * Review a created migration before committing it: Prisma cannot express
 * everything (the init migration's generated "searchVector" column is
 * hand-edited, see its comment).
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";

import {
  MIGRATION_LOCK_TOML,
  MIGRATIONS_DIR,
  diffEmptyToSchema,
  diffMigrationsToSchema,
  isEmptyMigration,
} from "./schema-engine";

/** UTC `YYYYMMDDHHMMSS`, the timestamp Prisma puts in front of a migration's name. */
export function migrationTimestamp(date: Date = new Date()): string {
  return date.toISOString().replace(/[-:T]/g, "").slice(0, 14);
}

/**
 * The name part of the folder, as `prisma migrate dev --name` makes it
 * (`@sindresorhus/slugify` with separator "_", at most 200 characters),
 * for ASCII names: "addUserEmail" and "add user-email" both give "add_user_email".
 */
export function migrationSlug(name: string): string {
  return name
    .replace(/([a-z\d])([A-Z])/g, "$1_$2")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "")
    .slice(0, 200);
}

async function ensureMigrationLock(): Promise<void> {
  const lockPath = path.join(MIGRATIONS_DIR, "migration_lock.toml");
  const current = await readFile(lockPath, "utf8").catch(() => null);
  if (current === null) {
    await writeFile(lockPath, MIGRATION_LOCK_TOML, "utf8");
    console.error(`wrote ${path.relative(process.cwd(), lockPath)}`);
  } else if (!/^provider\s*=\s*"postgresql"\s*$/m.test(current)) {
    throw new Error(`${lockPath} does not say provider = "postgresql"; fix it by hand`);
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      create: { type: "string" },
      "from-empty": { type: "boolean", default: false },
      "exit-code": { type: "boolean", default: false },
    },
    allowPositionals: false,
  });

  if (values["from-empty"]) {
    process.stdout.write(await diffEmptyToSchema());
    return 0;
  }

  const sql = await diffMigrationsToSchema();
  process.stdout.write(sql.endsWith("\n") ? sql : `${sql}\n`);
  const empty = isEmptyMigration(sql);

  if (values.create !== undefined) {
    const slug = migrationSlug(values.create);
    if (!slug) throw new Error(`--create needs a name with letters or digits, got ${JSON.stringify(values.create)}`);
    await mkdir(MIGRATIONS_DIR, { recursive: true });
    await ensureMigrationLock();
    if (empty) {
      console.error("prisma/schema.prisma and prisma/migrations/ agree: no migration created");
      return 0;
    }
    const folder = path.join(MIGRATIONS_DIR, `${migrationTimestamp()}_${slug}`);
    await mkdir(folder); // fails if it exists, as Prisma does
    await writeFile(path.join(folder, "migration.sql"), sql, "utf8");
    console.error(`wrote ${path.relative(process.cwd(), path.join(folder, "migration.sql"))}: review it before committing`);
    return 0;
  }

  if (empty) console.error("prisma/schema.prisma and prisma/migrations/ agree");
  return values["exit-code"] && !empty ? 2 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  },
);
