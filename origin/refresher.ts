import type { Logger } from "../common/logger";
import type { PrismaClient } from "./generated/prisma/client";
import { DEFAULT_SEARCH_REFRESH, dueSearchPages, refreshSearch, type SearchRefreshOptions } from "./search-refresh";
import { pendingPages, type RefreshOutcome, refreshPage, type TextRefreshOptions } from "./text-refresh";

/**
 * How often the refresher asks Postgres which pages are behind, whatever it
 * heard: pages another origin process merged (it refreshes its own), pages
 * merged before a restart, hot pages whose search copy reached its bound.
 */
export const SWEEP_MS = 10_000;
/** A page new to the refresher may be a new page without a search copy: found by its title within this. */
const NEW_PAGE_SEARCH_MS = 1000;
/** A page a flush held locked when its refresh came: tried again after this. */
const LOCKED_RETRY_MS = 250;
/** After a failed pass (a database that is down), nothing runs before this. */
const ERROR_RETRY_MS = 1000;
/** Pages asked about per query, the oldest debt first. */
const BATCH = 200;

export interface RefresherOptions extends TextRefreshOptions {
  search?: SearchRefreshOptions;
  sweepMs?: number;
  onRefreshed?: (outcome: RefreshOutcome) => void;
  onSearchRefreshed?: (changed: boolean) => void;
}

/**
 * Runs the text and search refreshes in the origin process, woken by the
 * flushes it merges rather than asking Postgres four times a second: each
 * merged page is due once quiet for `quietMs` or once its oldest unrefreshed
 * flush is `refreshMs` old (origin/text-refresh.ts), and a timer is set for
 * the first page due. When that time comes, Postgres says which of those
 * pages are really due by its own clock and rows (another origin process
 * may have merged a later flush of it, or refreshed it already); the others
 * get the due time Postgres computed. A sweep every SWEEP_MS asks about
 * every page. Two origin processes may both run one: the page lock keeps
 * them from refreshing one page at once.
 */
export class TextRefresher {
  private started = false;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private running: Promise<unknown> | undefined;
  /** Pages with flushes not yet in their text, as far as this process knows: when each is due, by the local clock. */
  private readonly pending = new Map<string, { firstAt: number; dueAt: number }>();
  /** When a search pass is wanted: a page that may be new, a text just refreshed, the sweep. */
  private searchAt: number[] = [];
  private sweepDueAt = 0;
  private notBefore = 0;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly log: Logger,
    private readonly options: RefresherOptions,
  ) {}

  start(): void {
    if (this.started) return;
    this.started = true;
    this.arm();
  }

  async stop(): Promise<void> {
    this.started = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
    await this.running;
  }

  /** Pages a merge just changed: each is due once quiet, or at its bound from the first flush heard. */
  noteFlushed(slugs: readonly string[]): void {
    const now = Date.now();
    const { quietMs, refreshMs } = this.options;
    let unknown = false;
    for (const slug of slugs) {
      const known = this.pending.get(slug);
      unknown ||= !known;
      const firstAt = known?.firstAt ?? now;
      this.pending.set(slug, { firstAt, dueAt: Math.min(firstAt + refreshMs, now + quietMs) });
    }
    // One search pass covers every new page of the batch.
    if (unknown) this.searchAt.push(now + NEW_PAGE_SEARCH_MS);
    this.arm();
  }

  /** Sets the timer for the first thing due, unless one is set sooner or a pass is running (it arms again at its end). */
  private arm(): void {
    if (!this.started || this.running) return;
    let next = Math.min(this.sweepDueAt, ...this.searchAt);
    for (const { dueAt } of this.pending.values()) next = Math.min(next, dueAt);
    next = Math.max(next, this.notBefore);
    if (this.timer && this.timerAt <= next) return;
    clearTimeout(this.timer);
    this.timerAt = next;
    this.timer = setTimeout(() => this.fire(), Math.max(0, next - Date.now()));
    this.timer.unref();
  }

  private fire(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    this.running = this.pass().finally(() => {
      this.running = undefined;
      this.arm();
    });
  }

  /** Refreshes what is due now: the pages heard of, or on a sweep every page Postgres says is behind, then the search copies due. */
  private async pass(): Promise<void> {
    const now = Date.now();
    try {
      const sweep = now >= this.sweepDueAt;
      // What was known at the start: a flush heard while this pass awaits
      // replaces a page's entry, which then stays for its own due time.
      const known = new Map(this.pending);
      const heard = [...known].filter(([, page]) => page.dueAt <= now).map(([slug]) => slug);
      const forget = (slug: string) => {
        if (this.pending.get(slug) === known.get(slug)) this.pending.delete(slug);
      };
      const dueLater = (slug: string, dueAt: number) => {
        if (this.pending.get(slug) === known.get(slug)) this.pending.set(slug, { firstAt: known.get(slug)?.firstAt ?? now, dueAt });
      };
      if (sweep || heard.length > 0) {
        const rows = await pendingPages(this.prisma, this.options, sweep ? undefined : heard, BATCH);
        const behind = new Set(rows.map((row) => row.slug));
        // Not behind any more: refreshed by another origin process, or never
        // flushed (a protection notice). Unless the answer was cut at BATCH.
        if (rows.length < BATCH) for (const slug of heard) if (!behind.has(slug)) forget(slug);
        let refreshed = 0;
        let textChanged = false;
        for (const { slug, dueInMs } of rows) {
          if (dueInMs > 0) {
            dueLater(slug, Date.now() + dueInMs);
            continue;
          }
          const outcome = await refreshPage(this.prisma, slug);
          this.options.onRefreshed?.(outcome);
          if (!outcome.refreshed) {
            dueLater(slug, Date.now() + LOCKED_RETRY_MS);
            continue;
          }
          refreshed += 1;
          forget(slug);
          textChanged ||= outcome.textChanged;
        }
        // A changed page's copy is due now if it went quiet, else once it is
        // quiet (if no later flush refreshes its text again before).
        if (textChanged) this.searchAt.push(Date.now(), Date.now() + this.searchOptions().quietMs);
        if (sweep) {
          // A full answer that refreshed something may have left more behind: sweep again at once.
          this.sweepDueAt = rows.length === BATCH && refreshed > 0 ? Date.now() : now + (this.options.sweepMs ?? SWEEP_MS);
          this.searchAt.push(now);
        }
      }
      const searchNow = Date.now();
      if (this.searchAt.some((at) => at <= searchNow)) {
        this.searchAt = this.searchAt.filter((at) => at > searchNow);
        await this.searchPass();
      }
    } catch (error) {
      // A database that is down now is asked again after a pause; the
      // flushes it holds are safe in PageUpdate meanwhile.
      this.notBefore = Date.now() + ERROR_RETRY_MS;
      this.searchAt.push(this.notBefore);
      this.log.warn({ err: error }, "text refresh failed; retrying");
    }
  }

  private async searchPass(): Promise<void> {
    const ids = await dueSearchPages(this.prisma, this.searchOptions(), BATCH);
    for (const pageId of ids) {
      const changed = await refreshSearch(this.prisma, pageId);
      this.options.onSearchRefreshed?.(changed);
    }
    if (ids.length === BATCH) this.searchAt.push(Date.now());
  }

  private searchOptions(): SearchRefreshOptions {
    return this.options.search ?? DEFAULT_SEARCH_REFRESH;
  }
}
