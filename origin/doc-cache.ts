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
 *
 * A page a merge holds is not in the cache until that merge puts it back,
 * a few milliseconds after its commit. A read or the next merge of the
 * page in that gap waits for it (`settled`) rather than building the page
 * again from its base and rows: on a hot page flushed by two PoPs that
 * rebuild was most of the origin's CPU (docs/benchmarks.md).
 */
export interface CachedDoc {
  doc: Y.Doc;
  seq: bigint;
  /** Encoded bytes the document was built from and has taken since: its memory is about 13x this. */
  bytes: number;
}

/** A merge puts its pages back within milliseconds of its commit; this is only the bound for one that never does. */
const SETTLE_WAIT_MS = 5000;

/** Measured: a Y.Doc holds 13-14x its encoded size in heap (DESIGN.md floors). */
const HEAP_PER_ENCODED_BYTE = 14;

/** Pages built from their base and rows, by who needed them: a merge, or a page-state read. */
export interface DocBuilds {
  merge: number;
  read: number;
}

export class DocCache {
  private readonly entries = new Map<string, CachedDoc>();
  /** Pages a merge took and has not put back yet, each with what its waiters wait on. */
  private readonly holds = new Map<string, { settled: Promise<void>; release: () => void }>();
  private heapBytes = 0;
  /** Counted by the callers that build a page this cache could not give them (weirwood_origin_page_builds_total). */
  readonly builds: DocBuilds = { merge: 0, read: 0 };

  constructor(private readonly maxHeapBytes: number) {}

  /**
   * The page's document at exactly `seq`, removed from the cache and held
   * until `put` or `release`; undefined when it is not there at that version.
   */
  take(pageId: string, seq: bigint): CachedDoc | undefined {
    const entry = this.entries.get(pageId);
    if (!entry) return undefined;
    this.remove(pageId, entry);
    if (entry.seq !== seq) {
      entry.doc.destroy();
      return undefined;
    }
    let release!: () => void;
    const settled = new Promise<void>((resolve) => (release = resolve));
    this.holds.set(pageId, { settled, release });
    return entry;
  }

  /** Whether a merge holds the page's document (taken, not yet put back). */
  isHeld(pageId: string): boolean {
    return this.holds.has(pageId);
  }

  /**
   * Resolves once no merge holds the page's document (at once when none
   * does), or after `withinMs` all the same: a hold that never ended must
   * cost a rebuild, never a stalled merge.
   */
  async settled(pageId: string, withinMs = SETTLE_WAIT_MS): Promise<void> {
    const hold = this.holds.get(pageId);
    if (!hold) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([hold.settled, new Promise<void>((resolve) => (timer = setTimeout(resolve, withinMs)))]);
    clearTimeout(timer);
  }

  /** Ends a merge's hold without putting anything back (its transaction failed); a no-op when it holds nothing. */
  release(pageId: string): void {
    const hold = this.holds.get(pageId);
    if (!hold) return;
    this.holds.delete(pageId);
    hold.release();
  }

  /** The version of the page's document the cache holds now, if any. */
  versionOf(pageId: string): bigint | undefined {
    return this.entries.get(pageId)?.seq;
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

  /** Keeps a committed document, unless a newer version of the page is already kept; ends any hold on the page. */
  put(pageId: string, entry: CachedDoc): void {
    this.keep(pageId, entry);
    this.release(pageId);
  }

  private keep(pageId: string, entry: CachedDoc): void {
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
    for (const pageId of [...this.holds.keys()]) this.release(pageId);
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
