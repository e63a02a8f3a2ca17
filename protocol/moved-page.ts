/**
 * The close reason an edge gives (with 4411) for an old name of a moved page.
 * The wiki's editor reads the new name back from it (movedToOf): keep the two
 * together. No zod here: the browser's editor imports this file, and zod's
 * probe for eval would trip the page's Content-Security-Policy.
 */
export function movedPageMessage(to: string): string {
  return `this page was moved to ${to}`;
}

/** The new name in a movedPageMessage, or undefined. */
export function movedToOf(reason: string): string | undefined {
  return /^this page was moved to (\S+)$/u.exec(reason)?.[1];
}

/** What a close frame's reason holds (RFC 6455 5.5: 125 bytes of payload, 2 of them the code). */
const CLOSE_REASON_BYTES = 123;

/**
 * The 4411 reason for a name too long to give in one: it names no page
 * (movedToOf reads nothing from it), and says where the name is.
 */
export const MOVED_TO_A_LONG_NAME = "this page was moved to a name too long for a close reason: GET /api/pages/<this name> names it";

/**
 * The reason to close an old name's connections with: movedPageMessage when
 * it fits a close frame. A slug may hold 255 bytes, more than fits after the
 * message's 23; such a name is not cut, as a cut name is a page that does
 * not exist, and the wiki's editor would follow it there with the edits it
 * had not sent yet.
 */
export function movedCloseReason(to: string): string {
  const named = movedPageMessage(to);
  return new TextEncoder().encode(named).byteLength <= CLOSE_REASON_BYTES ? named : MOVED_TO_A_LONG_NAME;
}
