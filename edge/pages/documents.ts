import type { Slug } from "../../common/slug";
import type { Page } from "./page";

/** The replica is at its page limit and every page it holds is in use or unflushed. */
export class PageLimitError extends Error {
  override name = "PageLimitError";
}

/**
 * The pages a replica holds. A page is loaded once however many clients ask
 * for it at the same moment (Hocuspocus's loadingDocuments), and evicted only
 * when nobody is on it, it was idle for a while, the origin has it, and no
 * update waits to be applied to it.
 */
export class PageRegistry {
  private readonly pages = new Map<Slug, Page>();
  private readonly loading = new Map<Slug, Promise<Page>>();

  constructor(
    private readonly load: (slug: Slug) => Promise<Page>,
    private readonly hooks: { loaded(page: Page): void; evicted(page: Page): void; pinned?(page: Page): boolean },
    private readonly maxPages: number,
  ) {}

  get(slug: string): Page | undefined {
    return this.pages.get(slug as Slug);
  }

  /** The page being loaded, if it is. */
  loadingPage(slug: string): Promise<Page> | undefined {
    return this.loading.get(slug as Slug);
  }

  get size(): number {
    return this.pages.size;
  }

  all(): IterableIterator<Page> {
    return this.pages.values();
  }

  open(slug: Slug): Promise<Page> {
    const held = this.pages.get(slug);
    if (held) return Promise.resolve(held);
    const pending = this.loading.get(slug);
    if (pending) return pending;
    if (this.pages.size + this.loading.size >= this.maxPages) {
      this.evictIdle(0);
      if (this.pages.size + this.loading.size >= this.maxPages) {
        return Promise.reject(
          new PageLimitError(`this replica holds its limit of ${this.maxPages} pages (EDGE_MAX_PAGES), all in use or unflushed: try another replica`),
        );
      }
    }
    const loading = this.load(slug).then(
      (page) => {
        this.loading.delete(slug);
        this.pages.set(slug, page);
        this.hooks.loaded(page);
        return page;
      },
      (error: unknown) => {
        this.loading.delete(slug);
        throw error;
      },
    );
    this.loading.set(slug, loading);
    return loading;
  }

  /** Drops pages with no client, no unflushed edit, idle for `idleMs`. */
  evictIdle(idleMs: number, now = Date.now()): Page[] {
    const evicted: Page[] = [];
    for (const page of this.pages.values()) {
      if (page.clients.size > 0 || page.dirty || now - page.lastActive < idleMs || this.hooks.pinned?.(page)) continue;
      this.pages.delete(page.slug);
      this.hooks.evicted(page);
      page.destroy();
      evicted.push(page);
    }
    return evicted;
  }
}
