import { cp, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../origin/db";
import { testDatabases } from "../tests/support/databases";
import { MIGRATIONS_DIR, readMigrations } from "./migrate";

describe.each(testDatabases)("db:migrate on $name", (kind) => {
  let db: Database;
  beforeAll(async () => {
    db = await kind.openMigratedFromEmpty(); // applies every migration once, from none
  });
  afterAll(async () => {
    await db?.close();
  });

  it("running it again applies nothing", async () => {
    const all = (await readMigrations()).map((migration) => migration.name);
    expect(await db.migrate()).toEqual({ applied: [], alreadyApplied: all });
  });

  it("records each migration as prisma migrate deploy does", async () => {
    const rows = await db.prisma.$queryRaw<{ migration_name: string; checksum: string; finished_at: Date | null }[]>`
      SELECT migration_name, checksum, finished_at FROM "_prisma_migrations" ORDER BY migration_name`;
    const migrations = await readMigrations();
    expect(rows.map((row) => [row.migration_name, row.checksum])).toEqual(
      migrations.map((migration) => [migration.name, migration.checksum]),
    );
    expect(rows.every((row) => row.finished_at instanceof Date)).toBe(true);
  });
});

describe.each(testDatabases)("db:migrate on $name refuses", (kind) => {
  let dir: string;
  let db: Database;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "weirwood-migrations-"));
    await cp(MIGRATIONS_DIR, dir, { recursive: true });
    db = await kind.open();
  });
  afterAll(async () => {
    await db?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("an applied migration whose file changed since, naming it", async () => {
    const [first] = await readMigrations(dir);
    await writeFile(path.join(dir, first!.name, "migration.sql"), `${first!.sql}\n-- edited`);
    await expect(db.migrate(dir)).rejects.toThrow(
      new RegExp(`migration ${first!.name} was applied with checksum [0-9a-f]{64}, but the file now hashes to`),
    );
  });

  it("a failing migration, rolled back whole", async () => {
    await mkdir(path.join(dir, "99999999999999_broken"));
    await writeFile(path.join(dir, "99999999999999_broken", "migration.sql"), 'CREATE TABLE "Half" (id int);\nSELECT * FROM "NoSuchTable";');
    const [first] = await readMigrations(MIGRATIONS_DIR);
    await writeFile(path.join(dir, first!.name, "migration.sql"), first!.sql);
    await expect(db.migrate(dir)).rejects.toThrow(/migration 99999999999999_broken failed and was rolled back: .*NoSuchTable/);
    const tables = await db.prisma.$queryRaw<{ n: bigint }[]>`SELECT count(*) AS n FROM pg_tables WHERE tablename = 'Half'`;
    expect(Number(tables[0]!.n)).toBe(0);
  });
});
