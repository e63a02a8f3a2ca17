import type * as Y from "yjs";
import type { PrismaClient } from "./generated/prisma/client";

/**
 * The origin's most recently merged pages as Yjs documents, so that the
 * next flush of a hot page applies its diff to a document instead of
 * decoding the page again: a 200 KB page costs ~20 ms of CPU to decode, its
 * diff well under one. An entry holds the document as of one page version
 * (PageUpdate seq); a merge takes it out for its transaction and puts it
 * back only once that committed, so a rolled-back merge never leaves
 * uncommitted content in the cache, and a version another origin process
 * committed meanwhile simply misses.
 */
export interface CachedDoc {
  doc: Y.Doc;
  seq: bigint;
  /** Encoded bytes the document was built from and has taken since: its memory is about 13x this. */
  bytes: number;
}

/** Measured: a Y.Doc holds 13-14x its encoded size in heap (DESIGN.md floors). */
const HEAP_PER_ENCODED_BYTE = 14;

export class DocCache {
  private readonly entries = new Map<string, CachedDoc>();
  private heapBytes = 0;

  constructor(private readonly maxHeapBytes: number) {}

  /** The page's document at exactly `seq`, removed from the cache; undefined when it is not there at that version. */
  take(pageId: string, seq: bigint): CachedDoc | undefined {
    const entry = this.entries.get(pageId);
    if (!entry) return undefined;
    this.remove(pageId, entry);
    if (entry.seq === seq) return entry;
    entry.doc.destroy();
    return undefined;
  }

  /**
   * The page's document at exactly `seq`, left in the cache, to be read at
   * once (before any await): a merge may take it at its next turn. Never a
   * document a merge holds, so never uncommitted content.
   */
  peek(pageId: string, seq: bigint): CachedDoc | undefined {
    const entry = this.entries.get(pageId);
    return entry?.seq === seq ? entry : undefined;
  }

  /** Keeps a committed document, unless a newer version of the page is already kept. */
  put(pageId: string, entry: CachedDoc): void {
    const present = this.entries.get(pageId);
    if (present) {
      if (present.seq >= entry.seq) {
        entry.doc.destroy();
        return;
      }
      this.remove(pageId, present);
      present.doc.destroy();
    }
    const heap = entry.bytes * HEAP_PER_ENCODED_BYTE;
    if (heap > this.maxHeapBytes) {
      entry.doc.destroy();
      return;
    }
    this.entries.set(pageId, entry);
    this.heapBytes += heap;
    // Least recently put goes first: Map keeps insertion order.
    for (const [oldest, old] of this.entries) {
      if (this.heapBytes <= this.maxHeapBytes) break;
      this.remove(oldest, old);
      old.doc.destroy();
    }
  }

  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    for (const [pageId, entry] of this.entries) {
      this.remove(pageId, entry);
      entry.doc.destroy();
    }
  }

  private remove(pageId: string, entry: CachedDoc): void {
    this.entries.delete(pageId);
    this.heapBytes -= entry.bytes * HEAP_PER_ENCODED_BYTE;
  }
}

/** Documents of recently merged pages, per database: what merges and page-state reads share. */
const DOC_CACHE_HEAP_BYTES = 256 * 1024 * 1024;
const docCaches = new WeakMap<PrismaClient, DocCache>();

export function docCacheOf(prisma: PrismaClient): DocCache {
  let cache = docCaches.get(prisma);
  if (!cache) docCaches.set(prisma, (cache = new DocCache(DOC_CACHE_HEAP_BYTES)));
  return cache;
}
