import type { PGlite } from "@electric-sql/pglite";
import type pg from "pg";

/**
 * The narrow SQL surface the migrator needs, over either driver. Prisma stays
 * the way the origin reads and writes data; this is only for applying
 * migration files, which Prisma's CLI cannot do offline on our machines.
 */
export interface SqlSession {
  /** Runs one or more statements with no parameters. */
  exec(sql: string): Promise<void>;
  query<Row extends Record<string, unknown>>(sql: string, params?: unknown[]): Promise<Row[]>;
}

export function pgSession(client: pg.Pool | pg.PoolClient | pg.Client): SqlSession {
  return {
    async exec(sql) {
      await client.query(sql);
    },
    async query<Row extends Record<string, unknown>>(sql: string, params: unknown[] = []) {
      const result = await client.query(sql, params);
      return result.rows as Row[];
    },
  };
}

export function pgliteSession(db: PGlite): SqlSession {
  return {
    async exec(sql) {
      await db.exec(sql);
    },
    async query<Row extends Record<string, unknown>>(sql: string, params: unknown[] = []) {
      const result = await db.query<Row>(sql, params);
      return result.rows;
    },
  };
}
