import { z } from "zod";

/**
 * Admins' blocks of accounts as the origin tells the edges about them: the
 * active list (`GET /api/internal/blocks`, which each replica polls every
 * EDGE_BLOCK_RECHECK_MS) and one change at a time on the broker
 * (`subjects.userBlocks()`, heard at once but possibly lost). JSON, as the
 * `ww.keys` answer: a few per minute at most, read by people debugging.
 */
export const activeBlockSchema = z.object({
  /** The token's `sub`: what an edge matches a connection by. */
  userId: z.string().min(1),
  name: z.string().min(1),
  reason: z.string().min(1),
  /** ISO 8601; null for a block without end. */
  expiresAt: z.iso.datetime({ offset: true }).nullable(),
});

export type ActiveBlock = z.infer<typeof activeBlockSchema>;

export const blockListSchema = z.object({ blocks: z.array(activeBlockSchema) });

export type BlockList = z.infer<typeof blockListSchema>;

export const blockNoticeSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("blocked"), block: activeBlockSchema }),
  z.object({ kind: z.literal("unblocked"), userId: z.string().min(1) }),
]);

export type BlockNotice = z.infer<typeof blockNoticeSchema>;

export function encodeBlockNotice(notice: BlockNotice): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(notice));
}

/** Throws on anything that is not a notice: the caller logs it and waits for the next recheck. */
export function decodeBlockNotice(data: Uint8Array): BlockNotice {
  return blockNoticeSchema.parse(JSON.parse(new TextDecoder().decode(data)));
}
