import { strongEtag } from "../../common/conditional";
import { pageText } from "../../common/page-text";
import type { Page } from "../pages/page";

/**
 * A page's read answer, kept until its document changes or the origin
 * names a new revision: a hot page's readers would otherwise each pay for
 * the whole text, its JSON and its hash (a 2 MiB page: milliseconds each),
 * while its editors change it a few times a second at most.
 */
class ReadSnapshot {
  body = "";
  etag = "";
  revision = -1;
  current = false;

  constructor(page: Page) {
    // Every transaction that changes the document, whoever made it (a client, a peer, the origin, the log).
    page.doc.on("update", () => {
      this.current = false;
    });
  }
}

const snapshots = new WeakMap<Page, ReadSnapshot>();

/** The JSON body of a read of `page` now, and its strong ETag. */
export function readSnapshot(page: Page): { body: string; etag: string } {
  let snapshot = snapshots.get(page);
  if (!snapshot) {
    snapshot = new ReadSnapshot(page);
    snapshots.set(page, snapshot);
  }
  if (!snapshot.current || snapshot.revision !== page.revision) {
    snapshot.body = JSON.stringify({ slug: page.slug, text: pageText(page.doc), revision: page.revision });
    snapshot.etag = strongEtag(snapshot.body);
    snapshot.revision = page.revision;
    snapshot.current = true;
  }
  return snapshot;
}
