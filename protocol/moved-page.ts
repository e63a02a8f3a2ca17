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
