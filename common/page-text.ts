import type * as Y from "yjs";

/** The Y.Text of a page's document that holds its Markdown (every client and the origin use this name). */
export const PAGE_TEXT_NAME = "body";

/**
 * The page's Markdown as the origin stores and serves it, and as the edge
 * answers reads. Postgres' text type cannot hold U+0000, which a Yjs text
 * can: stored as is, it would fail every refresh of the page. It becomes
 * U+FFFD, the replacement character; the Yjs state keeps the original.
 * The edge does the same, so that both answer one page with one text.
 */
export function pageText(doc: Y.Doc): string {
  return doc.getText(PAGE_TEXT_NAME).toString().replaceAll("\u0000", "\uFFFD");
}

/**
 * A short fingerprint of a page's text (FNV-1a over its UTF-16 code units,
 * and its length): the page view carries the one of the text it rendered, so
 * that the browser can tell whether an edge holds another text without the
 * view carrying the text twice. Not a security measure; plain JS, since
 * crypto.subtle exists only on secure origins.
 */
export function textFingerprint(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return `${text.length.toString(36)}-${hash.toString(36)}`;
}
