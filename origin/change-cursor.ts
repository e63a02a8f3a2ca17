import { BadRequestError } from "./errors";
import type { Prisma } from "./generated/prisma/client";

/**
 * Where a list of revisions ordered newest first (by their newest flush, then
 * id) stopped: the next page starts after it. Opaque to clients; a keyset,
 * not an offset, so a page costs the same however far back it is. A revision
 * still growing moves up the list, so one may show twice across pages, never
 * be skipped.
 */
export interface ChangeCursor {
  updatedAt: Date;
  id: string;
}

export function encodeChangeCursor(cursor: ChangeCursor): string {
  return Buffer.from(`${cursor.updatedAt.getTime()}.${cursor.id}`, "utf8").toString("base64url");
}

export function decodeChangeCursor(raw: string): ChangeCursor {
  const match = /^(\d{1,15})\.([0-9a-f-]{36})$/u.exec(Buffer.from(raw, "base64url").toString("utf8"));
  if (!match) throw new BadRequestError(`before: not a cursor this list handed out (${JSON.stringify(raw.slice(0, 80))}); pass the \`next\` of the previous answer`);
  return { updatedAt: new Date(Number(match[1])), id: match[2]! };
}

/** The revisions after `cursor` in the newest-first order. */
export function afterCursor(cursor: ChangeCursor | undefined): Prisma.RevisionWhereInput {
  if (!cursor) return {};
  return { OR: [{ updatedAt: { lt: cursor.updatedAt } }, { updatedAt: cursor.updatedAt, id: { lt: cursor.id } }] };
}

/** The newest-first order the cursor follows: ids break ties between revisions of one millisecond. */
export const NEWEST_FIRST = [{ updatedAt: "desc" }, { id: "desc" }] satisfies Prisma.RevisionOrderByWithRelationInput[];
