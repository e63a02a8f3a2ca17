import * as Y from "yjs";
import type { Page } from "./page";

interface Measured {
  /** The page's encoded state when last measured, plus the updates applied since: an estimate from above. */
  bytes: number;
  /** No update was applied since the last measure. */
  exact: boolean;
}

/**
 * The page size limit (EDGE_MAX_PAGE_BYTES) on client updates. Measuring a
 * page's encoded state costs a pass over the whole document, so each page's
 * size is measured once and then estimated by adding the bytes of every
 * update applied (an update adds about its own length, usually less once
 * merged); it is measured again only when the estimate says the limit is
 * near. The check counts the update's whole length on top of the page, so
 * it errs on the side of refusing a few bytes early. Updates that add no structs (deletions) are
 * always taken: they are how a page at its limit shrinks.
 */
export class PageSizeLimit {
  private readonly sizes = new WeakMap<Page, Measured>();

  constructor(readonly maxBytes: number) {}

  /** Why `update` may not be applied to `page`, or undefined when it may. */
  refusal(page: Page, update: Uint8Array): string | undefined {
    const measured = this.measured(page);
    if (measured.bytes + update.byteLength <= this.maxBytes) return undefined;
    if (!measured.exact) {
      measured.bytes = Y.encodeStateAsUpdate(page.doc).byteLength;
      measured.exact = true;
      if (measured.bytes + update.byteLength <= this.maxBytes) return undefined;
    }
    if (Y.decodeUpdate(update).structs.length === 0) return undefined;
    // A close reason holds 123 bytes: the slug is in the replica's log, not here.
    return `page too large: ${measured.bytes} + ${update.byteLength} bytes > limit ${this.maxBytes} (EDGE_MAX_PAGE_BYTES); edit not saved`;
  }

  private measured(page: Page): Measured {
    let measured = this.sizes.get(page);
    if (!measured) {
      const fresh: Measured = { bytes: Y.encodeStateAsUpdate(page.doc).byteLength, exact: true };
      page.doc.on("update", (update: Uint8Array) => {
        fresh.bytes += update.byteLength;
        fresh.exact = false;
      });
      this.sizes.set(page, fresh);
      measured = fresh;
    }
    return measured;
  }
}
