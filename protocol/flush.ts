import { z } from "zod";

/**
 * The flush exchange between an edge and the origin (POST
 * /api/internal/flush), JSON with Yjs bytes in base64. Specified in
 * protocol/PROTOCOL.md; both sides parse with these schemas.
 */

const base64 = z
  .string()
  .max(64 * 1024 * 1024)
  .regex(/^[A-Za-z0-9+/]*={0,2}$/, "must be base64");

/**
 * Which user each Yjs client id belongs to (issue 18): `[clientId, user]`
 * pairs. A Yjs client id is a varUint below 2^53.
 */
const claimsSchema = z.array(z.tuple([z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER), z.string().min(1).max(128)])).max(1_000_000);

export const flushPageSchema = z.object({
  slug: z.string().min(1).max(255),
  /** Yjs update (v1): what the edge has that the origin had not acknowledged. */
  update: base64,
  /** The edge's state vector of the page after `update`. */
  stateVector: base64,
  /** How many client edits `update` merges. */
  editCount: z.number().int().nonnegative().max(1_000_000_000),
  /** Names of the users whose edits `update` merges. */
  authors: z.array(z.string().min(1).max(128)).max(10_000),
  /**
   * At `pop` durability: the highest sequence of the PoP's durable log whose
   * update for this page `update` contains. Decimal string (a uint64).
   */
  logSequence: z.string().regex(/^\d{1,20}$/, "must be a decimal sequence number").optional(),
  /** Whose each client id of `update`'s structs is, as the edge knows it. */
  claims: claimsSchema.optional(),
});

export const flushBatchSchema = z.object({
  /** Unique per batch; the origin applies a batch id once. */
  batchId: z.string().min(8).max(128).regex(/^[A-Za-z0-9._:-]+$/, "must be letters, digits, '.', '_', ':' or '-'"),
  pop: z.string().min(1).max(64),
  edge: z.string().min(1).max(128),
  pages: z.array(flushPageSchema).max(10_000),
});

export type FlushPage = z.infer<typeof flushPageSchema>;
export type FlushBatch = z.infer<typeof flushBatchSchema>;

export const flushAnswerPageSchema = z.object({
  slug: z.string(),
  /** The origin's state vector of the page after the merge. */
  stateVector: base64,
  /** Yjs update holding what the origin has and the sender's state vector lacks. */
  missing: base64,
  /** The page's newest revision number after the merge (0: none yet). */
  revision: z.number().int().nonnegative(),
  /** The origin's claims of the client ids in `missing` (and of any it refused). */
  claims: claimsSchema.optional(),
});

export const flushAnswerSchema = z.object({
  batchId: z.string(),
  /** True when the origin had already applied this batch id; nothing was written. */
  duplicate: z.boolean(),
  pages: z.array(flushAnswerPageSchema),
});

export type FlushAnswerPage = z.infer<typeof flushAnswerPageSchema>;
export type FlushAnswer = z.infer<typeof flushAnswerSchema>;

/** A page as the origin hands it to an edge that bootstraps it. */
export const pageStateSchema = z.object({
  slug: z.string(),
  exists: z.boolean(),
  protection: z.enum(["none", "admin"]),
  /**
   * Set while an admin has the page deleted: the admin's reason. The state
   * is still the page's (an edge finishing its flushes needs it); the edge
   * opens no connection to it. Absent from an origin older than deletion.
   */
  deleted: z.object({ reason: z.string() }).nullable().optional(),
  /** Set when the slug is an old name of a moved page: the page's name now (its state is that page's). */
  movedTo: z.string().nullable().optional(),
  state: base64,
  stateVector: base64,
  revision: z.number().int().nonnegative(),
  /** Every client id claim of the page. */
  claims: claimsSchema.optional(),
});

export type PageState = z.infer<typeof pageStateSchema>;

export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

export function fromBase64(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, "base64"));
}
