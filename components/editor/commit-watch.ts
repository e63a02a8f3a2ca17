/**
 * Tells when the origin has committed what this editor typed, until edges
 * report it (an `ack` at `origin` durability once the flush commits). It polls
 * GET /api/pages/:slug while there are edits the wiki may not have, and calls
 * them saved when the origin's text equals the editor's: a sufficient
 * condition, which needs a pause in everyone's typing to show.
 */
export class CommitWatch {
  private dirty = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;

  constructor(
    private readonly options: {
      slug: string;
      localText: () => string;
      /** Whether the edge has acknowledged every local edit (no use polling before). */
      acknowledged: () => boolean;
      onCommitted: (at: Date) => void;
      intervalMs?: number;
      fetchImpl?: typeof fetch;
    },
  ) {}

  /** A local edit: the wiki does not have it yet. */
  markDirty(): void {
    this.dirty = true;
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private schedule(): void {
    if (this.stopped || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.check();
    }, this.options.intervalMs ?? 2_000);
  }

  private async check(): Promise<void> {
    if (!this.dirty || this.stopped) return;
    if (!this.options.acknowledged()) {
      this.schedule();
      return;
    }
    try {
      const fetchImpl = this.options.fetchImpl ?? ((input, init) => fetch(input, init));
      const response = await fetchImpl(`/api/pages/${encodeURIComponent(this.options.slug)}`, { cache: "no-store" });
      if (response.ok) {
        const page = (await response.json()) as { text: string; updatedAt: string };
        if (page.text === this.options.localText() && !this.stopped) {
          this.dirty = false;
          this.options.onCommitted(new Date(page.updatedAt));
          return;
        }
      }
    } catch {
      // The origin is unreachable: the edits are safe at the edge; ask again later.
    }
    this.schedule();
  }
}
