import pg from "pg";

/**
 * What a system made Postgres write: WAL bytes (cluster-wide, so the bench
 * runs one system at a time, and other users of the same server count too),
 * and its database's committed transactions and tuples written.
 *
 * `transactions` is pg_stat_database's xact_commit: every committed
 * transaction, reads included (each autocommitted SELECT is one). What costs
 * WAL are the transactions that wrote: those get a transaction id, so the
 * cluster's next xid counts them (`writeTransactions`, cluster-wide like the
 * WAL; the bench's own reads take no xid).
 */
export interface PostgresCounters {
  walLsn: string;
  transactions: number;
  tuplesWritten: number;
  nextXid: bigint;
}

export interface PostgresWrites {
  /** Everything the load made Postgres write, the maintenance after it included (in a point's report, less what other databases wrote meanwhile). */
  walBytes: number;
  /**
   * Of walBytes, what the VACUUM closing the window wrote: work a system's
   * writes leave for later (dead row versions, and for Weirwood the GIN
   * pending list of its search index, folded into the index's tree), which
   * autovacuum would do outside any window. Counted, so that deferring a
   * cost does not hide it.
   */
  maintenanceWalBytes: number;
  /** The LSNs around the window, for pg_waldump on a private cluster (`--keep-postgres`-style analysis). */
  walFrom: string;
  walTo: string;
  transactions: number;
  writeTransactions: number;
  tuplesWritten: number;
}

/** pg_stat_database is fed by backends about once a second (PGSTAT_MIN_INTERVAL): wait longer than that before reading. */
export const STATS_LAG_MS = 1500;

export async function readPostgresCounters(serverUrl: string, database: string): Promise<PostgresCounters> {
  // Connected to the server's own database, so that the bench's reads never count as the system's.
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query("SELECT pg_stat_clear_snapshot()");
    const wal = await client.query<{ lsn: string }>("SELECT pg_current_wal_lsn()::text AS lsn");
    // pg_current_snapshot() assigns no xid of its own (txid_current() would).
    const xid = await client.query<{ next: string }>("SELECT pg_snapshot_xmax(pg_current_snapshot())::text AS next");
    const stats = await client.query<{ xact_commit: string; tup_inserted: string; tup_updated: string; tup_deleted: string }>(
      "SELECT xact_commit, tup_inserted, tup_updated, tup_deleted FROM pg_stat_database WHERE datname = $1",
      [database],
    );
    const row = stats.rows[0];
    if (!row) throw new Error(`peers: pg_stat_database has no row for ${database} on ${serverUrl}; was the database dropped?`);
    return {
      walLsn: wal.rows[0]!.lsn,
      transactions: Number(row.xact_commit),
      tuplesWritten: Number(row.tup_inserted) + Number(row.tup_updated) + Number(row.tup_deleted),
      nextXid: BigInt(xid.rows[0]!.next),
    };
  } finally {
    await client.end();
  }
}

/**
 * VACUUM of the system's database (every table, the catalogs too), in its own
 * connection. The bench runs one before the window (so that the migrations'
 * and the seat lines' dead rows are not the load's) and one at its end. The
 * one before ANALYZEs first, so that both systems' queries are planned on
 * statistics of their own tables (the bench's private cluster runs without
 * autovacuum, whose automatic ANALYZE fell into windows at random), and
 * only then VACUUMs: the other way round, the window's closing VACUUM
 * cleaned the dead pg_statistic rows the ANALYZE left (~100 kB in every
 * 20 s window).
 */
export async function vacuumDatabase(serverUrl: string, database: string, options: { analyze?: boolean } = {}): Promise<void> {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    if (options.analyze) await client.query("ANALYZE");
    await client.query("VACUUM");
  } finally {
    await client.end();
  }
}

/**
 * A checkpoint before the window: after it, the first change to every page
 * logs the page whole (a full-page image), as it does after each of the
 * server's own checkpoints. Without it, whether a system's window paid for
 * those images depended on when the last timed checkpoint fell.
 */
export async function checkpoint(serverUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query("CHECKPOINT");
  } finally {
    await client.end();
  }
}

/** Of a window's WAL, what records of other databases wrote (autovacuum of an earlier system's database, say): not this system's. */
export function otherDatabasesWal(relations: RelationWal[] | undefined): number {
  return relations?.find((relation) => relation.relation === OTHER_DATABASE)?.bytes ?? 0;
}

export async function postgresWritesBetween(
  serverUrl: string,
  before: PostgresCounters,
  after: PostgresCounters,
  maintenanceFrom: PostgresCounters = after,
): Promise<PostgresWrites> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    const diff = await client.query<{ bytes: string; maintenance: string }>(
      "SELECT pg_wal_lsn_diff($1::pg_lsn, $2::pg_lsn)::text AS bytes, pg_wal_lsn_diff($1::pg_lsn, $3::pg_lsn)::text AS maintenance",
      [after.walLsn, before.walLsn, maintenanceFrom.walLsn],
    );
    return {
      walBytes: Number(diff.rows[0]!.bytes),
      maintenanceWalBytes: Number(diff.rows[0]!.maintenance),
      walFrom: before.walLsn,
      walTo: after.walLsn,
      transactions: after.transactions - before.transactions,
      writeTransactions: Number(after.nextXid - before.nextXid),
      tuplesWritten: after.tuplesWritten - before.tuplesWritten,
    };
  } finally {
    await client.end();
  }
}

const OTHER_DATABASE = "(other database)";

/** WAL a window wrote to one relation of the system's database (or to records that name none). */
export interface RelationWal {
  /** A table or index name; "<table> TOAST" for its TOAST table and that table's index; "(Transaction)" etc. for records without a block. */
  relation: string;
  records: number;
  bytes: number;
  /** Of bytes, full-page images: the first change to a page after a checkpoint logs the whole page. */
  fpiBytes: number;
}

/**
 * Where a window's WAL went, by relation: pg_walinspect (Postgres 15's
 * contrib, created in the server's own database) reads the records between
 * the LSNs, and the system's database names their relfilenodes. Records of
 * other databases (another bench's, the catalogs shared by all) are summed
 * as "(other database)".
 */
export async function walByRelation(serverUrl: string, database: string, writes: Pick<PostgresWrites, "walFrom" | "walTo">): Promise<RelationWal[]> {
  const server = new pg.Client({ connectionString: serverUrl });
  await server.connect();
  let records: { resource_manager: string; record_length: number; fpi_length: number; block_ref: string | null }[];
  let databaseOid: string;
  try {
    await server.query("CREATE EXTENSION IF NOT EXISTS pg_walinspect");
    databaseOid = (await server.query<{ oid: string }>("SELECT oid::text FROM pg_database WHERE datname = $1", [database])).rows[0]!.oid;
    records = (
      await server.query("SELECT resource_manager, record_length, fpi_length, block_ref FROM pg_get_wal_records_info($1::pg_lsn, $2::pg_lsn)", [
        writes.walFrom,
        writes.walTo,
      ])
    ).rows;
  } finally {
    await server.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  const own = new pg.Client({ connectionString: url.toString() });
  await own.connect();
  const names = new Map<string, string>();
  try {
    const rows = await own.query<{ relfilenode: string; name: string }>(`
      SELECT pg_relation_filenode(c.oid)::text AS relfilenode,
             CASE WHEN owner.relname IS NOT NULL THEN owner.relname || ' TOAST'
                  WHEN toast_index_owner.relname IS NOT NULL THEN toast_index_owner.relname || ' TOAST'
                  ELSE c.relname END AS name
      FROM pg_class c
      LEFT JOIN pg_class owner ON owner.reltoastrelid = c.oid
      LEFT JOIN pg_index i ON i.indexrelid = c.oid
      LEFT JOIN pg_class toast_index_owner ON toast_index_owner.reltoastrelid = i.indrelid
      WHERE pg_relation_filenode(c.oid) IS NOT NULL`);
    for (const row of rows.rows) names.set(row.relfilenode, row.name);
  } finally {
    await own.end();
  }
  const byRelation = new Map<string, RelationWal>();
  for (const record of records) {
    const block = /rel \d+\/(\d+)\/(\d+)/.exec(record.block_ref ?? "");
    const relation = !block
      ? `(${record.resource_manager})`
      : block[1] !== databaseOid
        ? OTHER_DATABASE
        : (names.get(block[2]!) ?? `(relfilenode ${block[2]})`);
    const entry = byRelation.get(relation) ?? { relation, records: 0, bytes: 0, fpiBytes: 0 };
    entry.records += 1;
    entry.bytes += record.record_length;
    entry.fpiBytes += record.fpi_length;
    byRelation.set(relation, entry);
  }
  return [...byRelation.values()].sort((a, b) => b.bytes - a.bytes);
}
