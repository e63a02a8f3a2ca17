/**
 * When consecutive flushes of a page stop being one revision. A revision is
 * a unit of history a person reads: one person's burst of typing, or a
 * crowd's minute on a hot page, not each flush of each PoP (every 2 s).
 */
export const REVISION_MAX_SPAN_MS = 60_000;
/** A page left alone this long starts a new revision at its next edit. */
export const REVISION_QUIET_MS = 120_000;
/**
 * Below this many authors a revision is a few people's work, and a newcomer
 * starts a revision of their own; above it, it is a crowd's, grouped by time.
 */
export const REVISION_CROWD = 5;

export interface RevisionSoFar {
  createdAt: Date;
  updatedAt: Date;
  authors: readonly string[];
}

export interface FlushOfPage {
  createdAt: Date;
  authors: readonly string[];
}

export function startsNewRevision(open: RevisionSoFar | undefined, flush: FlushOfPage): boolean {
  if (!open) return true;
  if (flush.createdAt.getTime() - open.updatedAt.getTime() >= REVISION_QUIET_MS) return true;
  if (flush.createdAt.getTime() - open.createdAt.getTime() >= REVISION_MAX_SPAN_MS) return true;
  return open.authors.length < REVISION_CROWD && flush.authors.some((author) => !open.authors.includes(author));
}
