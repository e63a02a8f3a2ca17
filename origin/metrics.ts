import { Counter, collectDefaultMetrics, Histogram, Registry } from "prom-client";
import type { DocBuilds } from "./doc-cache";

/**
 * The origin's Prometheus metrics, served at GET /metrics (app/api/metrics)
 * and read in-process by the ops view. A registry of its own rather than
 * prom-client's global one: tests start several origins in one process,
 * and the embedded default also holds the edges' registries. Names are in
 * docs/ops/README.md.
 */
export function createOriginMetrics(options: { processMetrics: boolean; docBuilds?: () => DocBuilds }) {
  const registry = new Registry();
  // The origin owns its process in both ways of running (npm start and npm
  // run origin), so its registry carries the process figures.
  if (options.processMetrics) collectDefaultMetrics({ register: registry, prefix: "weirwood_origin_" });
  const registers = [registry];
  const seenBuilds: DocBuilds = { merge: 0, read: 0 };
  const metrics = {
    registry,
    batches: new Counter({
      name: "weirwood_origin_batches_total",
      help: "Flush batches (one transaction each), by result (merged, duplicate)",
      labelNames: ["result"] as const,
      registers,
    }),
    pages: new Counter({ name: "weirwood_origin_pages_merged_total", help: "Pages in merged flush batches", registers }),
    edits: new Counter({
      name: "weirwood_origin_edits_merged_total",
      help: "Edits the merged batches carried (their edit counts): edits per batch is the batching factor",
      registers,
    }),
    clientIdRefusals: new Counter({
      name: "weirwood_origin_client_id_refusals_total",
      help: "Client ids whose structs a flush brought and the merge left out (issue 18), by reason: claimed (another user's id), conflict (other content at clocks the origin holds)",
      labelNames: ["reason"] as const,
      registers,
    }),
    pageUpdates: new Counter({
      name: "weirwood_origin_page_updates_total",
      help: "Page updates appended by merged batches: one per page a batch changed",
      registers,
    }),
    textRefreshes: new Counter({
      name: "weirwood_origin_text_refreshes_total",
      help: "Pages whose text, links and history the text refresh brought up to date",
      registers,
    }),
    searchReindexes: new Counter({
      name: "weirwood_origin_search_reindexes_total",
      help: "Search copies of pages taken with a changed text or title: each re-indexes every distinct word of the page (ORIGIN_SEARCH_REFRESH_MS bounds how often for a hot page)",
      registers,
    }),
    revisionsOpened: new Counter({ name: "weirwood_origin_revisions_opened_total", help: "Revisions the text refresh opened", registers }),
    compactions: new Counter({
      name: "weirwood_origin_compactions_total",
      help: "Pages whose appended updates the text refresh folded into their base",
      registers,
    }),
    errors: new Counter({
      name: "weirwood_origin_batch_errors_total",
      help: "Flush batches that failed, by reason (refused: a bad batch, 4xx; failed: the origin's fault, 5xx)",
      labelNames: ["reason"] as const,
      registers,
    }),
    pageViews: new Counter({
      name: "weirwood_origin_page_views_total",
      help: "Read views of pages and the home page that reached the origin, by view (page, home) and answer (rendered: Next rendered the HTML; not-modified: a 304 before any rendering). What a cache in front saves shows as fewer rendered",
      labelNames: ["view", "answer"] as const,
      registers,
    }),
    pageBuilds: new Counter({
      name: "weirwood_origin_page_builds_total",
      help: "Pages built from their base and rows because the merges' document was not at the page's version, by who needed it (merge, read): one per page after a restart; a steady rate means the document cache is too small or another origin process merges the same pages",
      labelNames: ["by"] as const,
      registers,
      collect() {
        const builds = options.docBuilds?.();
        if (!builds) return;
        // The cache counts; this series follows it.
        for (const by of ["merge", "read"] as const) {
          const seen = seenBuilds[by];
          if (builds[by] > seen) this.inc({ by }, builds[by] - seen);
          seenBuilds[by] = builds[by];
        }
      },
    }),
    mergeSeconds: new Histogram({
      name: "weirwood_origin_merge_seconds",
      help: "Time to merge one flush batch, its transaction included",
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
  };
  exportZeros(metrics);
  return metrics;
}

/** Labelled series exist from the start (at 0), so that rate() and dashboards see them before the first batch. */
function exportZeros(metrics: ReturnType<typeof createOriginMetrics>): void {
  for (const result of ["merged", "duplicate"] as const) metrics.batches.inc({ result }, 0);
  for (const reason of ["refused", "failed"] as const) metrics.errors.inc({ reason }, 0);
  for (const view of ["page", "home"] as const) for (const answer of ["rendered", "not-modified"] as const) metrics.pageViews.inc({ view, answer }, 0);
  for (const by of ["merge", "read"] as const) metrics.pageBuilds.inc({ by }, 0);
}

export type OriginMetrics = ReturnType<typeof createOriginMetrics>;
