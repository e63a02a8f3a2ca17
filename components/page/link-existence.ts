/**
 * Which [[link]] targets exist, for pages rendered in the browser (live view,
 * preview). Starts from what the server knew; a target it did not know is
 * asked of the origin once (GET /api/pages/:slug) and remembered.
 */
export class LinkExistence {
  private readonly known = new Map<string, boolean>();
  private readonly asking = new Map<string, Promise<boolean>>();

  constructor(existing: readonly string[], private readonly fetchImpl: typeof fetch = (input, init) => fetch(input, init)) {
    for (const slug of existing) this.known.set(slug, true);
  }

  /** The existing pages among `slugs`. */
  async resolve(slugs: readonly string[]): Promise<Set<string>> {
    const answers = await Promise.all(slugs.map(async (slug) => [slug, await this.exists(slug)] as const));
    return new Set(answers.filter(([, exists]) => exists).map(([slug]) => slug));
  }

  private exists(slug: string): Promise<boolean> {
    const known = this.known.get(slug);
    if (known !== undefined) return Promise.resolve(known);
    let asking = this.asking.get(slug);
    if (!asking) {
      asking = this.fetchImpl(`/api/pages/${encodeURIComponent(slug)}`, { method: "GET" })
        .then((response) => response.ok)
        .catch(() => false)
        .then((exists) => {
          this.known.set(slug, exists);
          this.asking.delete(slug);
          return exists;
        });
      this.asking.set(slug, asking);
    }
    return asking;
  }
}
