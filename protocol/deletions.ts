import { z } from "zod";

/**
 * Admins' deletes and undeletes of pages as the origin tells the edges about
 * them: one change at a time on the broker (`subjects.pageDeletions()`,
 * heard at once but possibly lost), and, for the pages a replica holds, the
 * origin's answer to `POST /api/internal/deleted-pages` (each replica asks
 * every EDGE_BLOCK_RECHECK_MS, so a lost notice costs at most that long).
 * JSON, as the block notices: a few per day, read by people debugging.
 */
export const deletedPageSchema = z.object({
  slug: z.string().min(1),
  /** The admin's reason, as the deletion log holds it. */
  reason: z.string(),
  /**
   * Set when the name is not deleted but an old name of a moved page: the
   * page's name now. Its connections close with 4411 naming it, and the
   * wiki's editor reconnects there (origin/moves.ts).
   */
  movedTo: z.string().min(1).optional(),
});

export type DeletedPage = z.infer<typeof deletedPageSchema>;

export const deletionNoticeSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("deleted"), page: deletedPageSchema }),
  z.object({ kind: z.literal("undeleted"), slug: z.string().min(1) }),
  /** A page was moved: `slug` is now an old name of the page called `to`. */
  z.object({ kind: z.literal("moved"), slug: z.string().min(1), to: z.string().min(1) }),
]);

export type DeletionNotice = z.infer<typeof deletionNoticeSchema>;

/** The body of `POST /api/internal/deleted-pages`: the pages a replica holds. */
export const deletedPagesQuerySchema = z.object({ slugs: z.array(z.string().min(1)).max(100_000) });

/** Its answer: those of them deleted now (the rest are not). */
export const deletedPagesSchema = z.object({ deleted: z.array(deletedPageSchema) });

export function encodeDeletionNotice(notice: DeletionNotice): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(notice));
}

/** Throws on anything that is not a notice: the caller logs it and waits for the next recheck. */
export function decodeDeletionNotice(data: Uint8Array): DeletionNotice {
  return deletionNoticeSchema.parse(JSON.parse(new TextDecoder().decode(data)));
}

/** The close reason (and refusal) an edge gives for a deleted page; at most 123 bytes once fitted. */
export function deletedPageMessage(reason: string): string {
  return `this page was deleted by an admin: ${reason}`;
}
