import type { Logger } from "../../common/logger";
import { CloseCode } from "../../protocol/close-codes";
import { type DeletedPage, type DeletionNotice, decodeDeletionNotice, deletedPageMessage } from "../../protocol/deletions";
import { movedCloseReason } from "../../protocol/moved-page";
import type { ClientConnection } from "../clients/connection";
import type { Page } from "../pages/page";
import { fitCloseReason } from "./blocks";

/**
 * Which of the pages this replica holds an admin deleted, and enforcing it:
 * a deleted page's connections are closed with 4410 (final for stock
 * clients) and new ones refused (Replica.goneReason). Heard from the
 * broker's notices at once, and from the origin every EDGE_BLOCK_RECHECK_MS
 * for the pages held, so that a lost notice (or a lost undelete) costs at
 * most that long; a page loaded from the origin carries its flag already.
 *
 * The flag lives on the held Page, not in a list of its own: a page this
 * replica does not hold is asked about when it is loaded, so nothing here
 * can go stale for a page nobody opens.
 *
 * The page itself stays: its dirty edits are flushed as before (the origin
 * keeps them in the deleted page's history, for undelete), and it is
 * evicted once idle and flushed, as any other.
 */
export class PageDeletions {
  private rereading = false;
  private stale = false;
  /** Notices heard while a recheck is under way: its answer may predate them, so they win. */
  private heardDuringRead: DeletionNotice[] | undefined;

  constructor(
    private readonly deps: {
      pages: () => Iterable<Page>;
      heldPage: (slug: string) => Page | undefined;
      connections: Iterable<ClientConnection>;
      /** Which of `slugs` the origin has deleted now (POST /api/internal/deleted-pages). */
      readDeleted: (slugs: string[]) => Promise<DeletedPage[]>;
      /** Counts each connection closed for its page's deletion (weirwood_edge_deleted_page_closes_total). */
      closed: () => void;
      log: Logger;
    },
  ) {}

  /** A deletion notice from the broker (at most once: reread covers a lost one). */
  noticeHeard(data: Uint8Array): void {
    let notice: DeletionNotice;
    try {
      notice = decodeDeletionNotice(data);
    } catch (error) {
      this.deps.log.warn({ err: error }, "an unreadable page deletion notice: the next recheck of the origin enforces it");
      return;
    }
    this.heardDuringRead?.push(notice);
    this.apply(notice);
  }

  /** Asks the origin about every page held and enforces the answer. */
  async reread(): Promise<void> {
    // One read at a time: a slow origin must not pile them up.
    if (this.rereading) return;
    const pages = [...this.deps.pages()];
    if (pages.length === 0) return;
    this.rereading = true;
    this.heardDuringRead = [];
    let deleted: DeletedPage[];
    try {
      deleted = await this.deps.readDeleted(pages.map((page) => page.slug));
    } catch (error) {
      // Keep the flags as they are while the origin is away. Said once per outage.
      if (!this.stale) this.deps.log.warn({ err: error }, "could not ask the origin which held pages are deleted; keeping what this replica knows");
      this.stale = true;
      return;
    } finally {
      this.rereading = false;
    }
    const heard = this.heardDuringRead;
    this.heardDuringRead = undefined;
    if (this.stale) this.deps.log.info("asked the origin which held pages are deleted again");
    this.stale = false;
    const answers = new Map(deleted.map((page) => [page.slug, page]));
    for (const page of pages) {
      // A page evicted and loaded again meanwhile carries the origin's newer flag.
      if (this.deps.heldPage(page.slug) !== page) continue;
      const answer = answers.get(page.slug);
      if (answer?.movedTo !== undefined) this.markMoved(page, answer.movedTo);
      else this.mark(page, answer === undefined ? undefined : deletedPageMessage(answer.reason));
    }
    for (const notice of heard ?? []) this.apply(notice);
  }

  /**
   * Asks the origin about one page just bootstrapped from a peer, whose
   * answer carries no flag: its first connections are closed within one
   * round trip if it is deleted, rather than at the next recheck.
   */
  async check(page: Page): Promise<void> {
    try {
      const [deleted] = await this.deps.readDeleted([page.slug]);
      if (this.deps.heldPage(page.slug) !== page) return;
      if (deleted?.movedTo !== undefined) this.markMoved(page, deleted.movedTo);
      else this.mark(page, deleted ? deletedPageMessage(deleted.reason) : undefined);
    } catch (error) {
      this.deps.log.debug({ err: error, slug: page.slug }, "could not ask the origin whether a page is deleted; the recheck will");
    }
  }

  /** Sets a page's flag, from its load or from here, and closes its connections when it is deleted. */
  mark(page: Page, reason: string | undefined): void {
    const was = page.deleted;
    page.deleted = reason === undefined ? undefined : fitCloseReason(reason);
    if (page.deleted === undefined) {
      if (was !== undefined) this.deps.log.info({ slug: page.slug }, "page undeleted: connections to it are taken again");
      return;
    }
    if (was === undefined) this.deps.log.info({ slug: page.slug }, "page deleted by an admin: closing its connections");
    for (const client of this.deps.connections) {
      if (client.currentPage !== page || client.isClosed) continue;
      this.deps.closed();
      client.close(CloseCode.pageDeleted, page.deleted);
    }
  }

  /**
   * This name is now an old name of the page called `to`: its connections
   * are closed with 4411 naming it, for the wiki's editor to reconnect there.
   * A move is not undone under the same name (a move back renames the page
   * again), so the flag stays until the page is evicted.
   */
  markMoved(page: Page, to: string): void {
    if (page.movedTo === to) return;
    page.movedTo = to;
    this.deps.log.info({ slug: page.slug, to }, "page moved: closing the old name's connections");
    const reason = movedCloseReason(to);
    for (const client of this.deps.connections) {
      if (client.currentPage !== page || client.isClosed) continue;
      this.deps.closed();
      client.close(CloseCode.pageMoved, reason);
    }
  }

  private apply(notice: DeletionNotice): void {
    switch (notice.kind) {
      case "deleted": {
        const page = this.deps.heldPage(notice.page.slug);
        if (page) this.mark(page, deletedPageMessage(notice.page.reason));
        break;
      }
      case "undeleted": {
        const page = this.deps.heldPage(notice.slug);
        if (page) this.mark(page, undefined);
        break;
      }
      case "moved": {
        const page = this.deps.heldPage(notice.slug);
        if (page) this.markMoved(page, notice.to);
        break;
      }
      default:
        notice satisfies never;
    }
  }
}
