import type { Page } from "./page";

export interface HotPage {
  slug: string;
  editors: number;
  followers: number;
}

/**
 * The `limit` pages with the most connections on this replica, each with
 * its editors (connections that had an edit accepted) and followers (the
 * rest: readers following the page live, editors who have not typed yet).
 *
 * Exposed as a gauge labelled by page (weirwood_edge_hot_page_clients)
 * rather than a JSON endpoint of its own: Prometheus and the ops view then
 * read one place, and the label set stays bounded (2 × `limit` series per
 * scrape, the rest are removed) however many pages a replica holds.
 */
export function hottestPages(pages: Iterable<Page>, limit: number): HotPage[] {
  const counted: HotPage[] = [];
  for (const page of pages) {
    if (page.clients.size === 0) continue;
    let editors = 0;
    for (const client of page.clients) if (client.edited) editors += 1;
    counted.push({ slug: page.slug, editors, followers: page.clients.size - editors });
  }
  return counted
    .sort((a, b) => b.editors + b.followers - (a.editors + a.followers) || a.slug.localeCompare(b.slug))
    .slice(0, limit);
}
