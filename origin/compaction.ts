import * as Y from "yjs";

/**
 * Compaction folds a page's rows into its base. Reads merge base and rows
 * with Y.mergeUpdates (origin/page-log.ts), whose cost follows the bytes,
 * not how they are split: folding rows that only added text rewrites the
 * whole page and leaves reads as costly as before. So a fold happens when
 * it pays: past many rows (each a decoder and a TOAST fetch per read, and
 * every row boundary splits a typing run into structs of its own), or once
 * the rows hold at least COMPACT_MIN_BYTES and the folded state is at most
 * half of what reads merge today (deleted text the document garbage-collects,
 * text typed and retyped).
 */
export const COMPACT_ROWS = 256;
export const COMPACT_MIN_BYTES = 64 * 1024;
/** A fold must at least halve what reads merge: it then writes no more than it frees. */
const COMPACT_SHRINK_FACTOR = 2;

/** The page's base with every row folded in, when folding pays (see COMPACT_ROWS); undefined when it does not. */
export function foldedState(doc: Y.Doc, baseBytes: number, rows: readonly Uint8Array[]): Uint8Array | undefined {
  if (rows.length >= COMPACT_ROWS) return Y.encodeStateAsUpdate(doc);
  const appended = rows.reduce((sum, row) => sum + row.byteLength, 0);
  if (appended < COMPACT_MIN_BYTES) return undefined;
  const folded = Y.encodeStateAsUpdate(doc);
  return folded.byteLength * COMPACT_SHRINK_FACTOR <= baseBytes + appended ? folded : undefined;
}
