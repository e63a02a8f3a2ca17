import { readFile } from "node:fs/promises";

import { describe, expect, it } from "vitest";

import { SCHEMA_PATH, diffMigrationsToSchema, isEmptyMigration } from "./schema-engine";

/** The SQL statements of a script, without Prisma's `-- Comment` lines. */
function statements(sql: string): string[] {
  return sql
    .split("\n")
    .filter((line) => line.trim() !== "" && !line.trim().startsWith("--"));
}

describe("prisma/migrations", () => {
  it("the migrations describe exactly prisma/schema.prisma", async () => {
    // Prisma's schema engine (WebAssembly) applies prisma/migrations/ to an
    // in-memory PGlite and diffs the result against schema.prisma.
    // A failure lists the SQL a new migration needs: changed the schema?
    // `npm run db:diff -- --create <name>`, review the SQL, commit both.
    const sql = await diffMigrationsToSchema();
    expect(statements(sql)).toEqual([]);
    expect(isEmptyMigration(sql)).toBe(true);
  });

  it("notices a schema change that has no migration", async () => {
    const schema = await readFile(SCHEMA_PATH, "utf8");
    const changed = schema.replace(/model Batch \{\n/, "model Batch {\n  weirwoodTestOnly Int?\n");
    expect(changed).not.toBe(schema);
    const sql = await diffMigrationsToSchema({ schemaContent: changed });
    expect(statements(sql)).toHaveLength(1);
    expect(statements(sql)[0]).toMatch(/^ALTER TABLE "Batch" ADD COLUMN\s+"weirwoodTestOnly" INTEGER;$/);
  });
});
