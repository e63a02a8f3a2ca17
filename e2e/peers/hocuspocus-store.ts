import type pg from "pg";
import * as Y from "yjs";

/**
 * Hocuspocus's documents in Postgres, the shape its Database extension's
 * docs show: one row per document holding its whole encoded Yjs state,
 * rewritten at each (debounced) store.
 */
export const DOCUMENTS_TABLE_SQL = "CREATE TABLE IF NOT EXISTS documents (name text PRIMARY KEY, data bytea NOT NULL)";

type Queryable = Pick<pg.Pool | pg.Client, "query">;

export async function fetchDocumentState(db: Queryable, name: string): Promise<Uint8Array | null> {
  const result = await db.query<{ data: Buffer }>("SELECT data FROM documents WHERE name = $1", [name]);
  return result.rows[0] ? new Uint8Array(result.rows[0].data) : null;
}

export async function storeDocumentState(db: Queryable, name: string, state: Uint8Array): Promise<void> {
  await db.query("INSERT INTO documents (name, data) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET data = EXCLUDED.data", [name, Buffer.from(state)]);
}

/** The text the stored state decodes to ("" when nothing was stored): what survived in Postgres. */
export async function storedHocuspocusText(db: Queryable, name: string): Promise<string> {
  const state = await fetchDocumentState(db, name).catch((error: unknown) => {
    // The table does not exist until the server's first start finished.
    if ((error as { code?: string }).code === "42P01") return null;
    throw error;
  });
  if (!state) return "";
  const doc = new Y.Doc();
  Y.applyUpdate(doc, state);
  return doc.getText("body").toString();
}
