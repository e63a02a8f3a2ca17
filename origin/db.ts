import { mkdir } from "node:fs/promises";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaPGlite } from "pglite-prisma-adapter";
import { applyMigrations, type MigrationResult } from "../prisma/migrate";
import { pgliteSession, pgSession } from "../prisma/sql-session";
import { PrismaClient } from "./generated/prisma/client";

/**
 * The origin's database: Prisma over a real Postgres (`DATABASE_URL`) or over
 * an embedded PGlite in a data folder. The rest of origin/ sees only `prisma`.
 */
export interface Database {
  readonly prisma: PrismaClient;
  readonly kind: "postgres" | "pglite";
  /** Where the data lives, for logs: a URL without its password, or a folder. */
  readonly location: string;
  /** Applies prisma/migrations (or the folder `dir`, for tests). */
  migrate(dir?: string): Promise<MigrationResult>;
  close(): Promise<void>;
}

export type DatabaseTarget =
  | { kind: "postgres"; url: string }
  /**
   * `dataDir` undefined keeps PGlite in memory (tests); `loadDataDir`, a
   * PGlite dump (dumpDataDir), starts it from that copy instead of an empty
   * cluster: the tests' migrated template.
   */
  | { kind: "pglite"; dataDir: string | undefined; loadDataDir?: Blob };

export function databaseTarget(options: { databaseUrl: string | undefined; dataDir: string }): DatabaseTarget {
  return options.databaseUrl
    ? { kind: "postgres", url: options.databaseUrl }
    : { kind: "pglite", dataDir: path.join(options.dataDir, "pglite") };
}

export async function openDatabase(target: DatabaseTarget): Promise<Database> {
  return target.kind === "postgres" ? openPostgres(target.url) : openPGlite(target.dataDir, target.loadDataDir);
}

async function openPostgres(url: string): Promise<Database> {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  // An idle client that loses its server emits "error" on the pool; without a
  // listener that would crash the process instead of failing the next query.
  pool.on("error", () => {});
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  return {
    prisma,
    kind: "postgres",
    location: redactUrl(url),
    async migrate(dir) {
      const client = await pool.connect();
      try {
        return await applyMigrations(pgSession(client), dir);
      } finally {
        client.release();
      }
    },
    async close() {
      await prisma.$disconnect();
      await pool.end();
    },
  };
}

async function openPGlite(dataDir: string | undefined, loadDataDir?: Blob): Promise<Database> {
  if (dataDir) await mkdir(dataDir, { recursive: true });
  const pglite = await PGlite.create(dataDir ?? "memory://", loadDataDir ? { loadDataDir } : {});
  const prisma = new PrismaClient({ adapter: new PrismaPGlite(pglite) });
  return {
    prisma,
    kind: "pglite",
    location: dataDir ?? "memory://",
    migrate: (dir) => applyMigrations(pgliteSession(pglite), dir),
    async close() {
      await prisma.$disconnect();
      await pglite.close();
    },
  };
}

export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(unparseable DATABASE_URL)";
  }
}
