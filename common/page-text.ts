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
