/**
 * Limits the edge and the origin share. A page's size is the byte length of
 * its whole Yjs state as an update (v1): `Y.encodeStateAsUpdate(doc).byteLength`,
 * what the origin stores and a client downloads when it opens the page.
 *
 * 2 MiB holds a very long wiki page (a few hundred thousand words with its
 * editing history, deletions being a few bytes each once garbage-collected)
 * and its flush entry (base64, 2.7 MB) still fits the edge's default flush
 * batch of 4 MiB and the origin's default body limit of 8 MiB.
 */
export const DEFAULT_MAX_PAGE_BYTES = 2 * 1024 * 1024;
