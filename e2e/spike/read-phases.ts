import pg from "pg";
import { total } from "../../origin/ops/aggregate";
import { parseMetricsText } from "../../origin/ops/metrics-text";
import { FlushingPage } from "../../tests/support/flushing-page";
import { freePort } from "../../tests/support/free-port";
import { UsageSampler, type UsageReport } from "../load/process-usage";
import { type BrowserReadersResult, runBrowserReaders } from "./browser-readers";
import type { ManagedDeployment } from "./deployment";
import { NGINX_TEMPLATE, startNginxCache } from "./nginx-cache";
import { type ReadersResult, runReaders } from "./readers";

/**
 * The readers of a spike (issue 21): anonymous views of the hot pages at a
 * stated rate, once through the self-hosting guide's nginx cache and once
 * straight at the origin, while each page keeps changing. What it shows is
 * what the cache saves the origin (page renders, Postgres transactions) and
 * what readers wait.
 */

export const READ_PATHS = ["cache", "origin"] as const;
export type ReadPath = (typeof READ_PATHS)[number];

export interface ReadersSettings {
  /** Offered views per second (0: no readers). */
  viewsPerSec: number;
  through: ReadPath[];
  /** Seconds each path is read. */
  seconds: number;
  connections: number;
  maxInFlight: number;
  /** Chromium readers beside the HTTP ones (browser-readers.ts), each loading the views in turn. */
  browsers: number;
  /** Each hot page gets one flushed edit this often while the readers read, so that copies go out of date. */
  editMs: number;
}

export interface ReadPhase extends ReadersResult {
  through: ReadPath;
  offeredPerSec: number;
  /** Answered without the origin: HIT, STALE and UPDATING over all answered views (null without a cache). */
  hitRatio: number | null;
  /** weirwood_origin_page_views_total over the phase, per second. */
  originRendersPerSec: number | null;
  originNotModifiedPerSec: number | null;
  /** xact_commit + xact_rollback of the run's database in pg_stat_database, per second. */
  postgresTransactionsPerSec: number | null;
  usage: UsageReport["processes"];
  machineBusyPercent: number;
  /** The Chromium readers of the same path and window, or null without them. */
  browserReaders: BrowserReadersResult | null;
}

export interface ReadersReport {
  settings: ReadersSettings;
  pages: string[];
  cacheConfig: string;
  postgresCounter: string;
  /** Edits merged on the hot pages while readers read (one flush each), and flushes that failed. */
  edits: { merged: number; failed: number };
  phases: ReadPhase[];
}

const SERVED_BY_CACHE = new Set(["HIT", "STALE", "UPDATING"]);
const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;

async function pageViewCounts(originUrl: string): Promise<{ rendered: number; notModified: number } | undefined> {
  try {
    const response = await fetch(`${originUrl}/metrics`, { signal: AbortSignal.timeout(10_000) });
    if (!response.ok) return undefined;
    const samples = parseMetricsText(await response.text());
    const rendered = total(samples, "weirwood_origin_page_views_total", { answer: "rendered" });
    const notModified = total(samples, "weirwood_origin_page_views_total", { answer: "not-modified" });
    return rendered === undefined || notModified === undefined ? undefined : { rendered, notModified };
  } catch {
    return undefined;
  }
}

/** Transactions of the database so far. pg_stat_database lags up to about a second (a backend reports at most once a second). */
async function postgresTransactions(client: pg.Client): Promise<number> {
  const result = await client.query<{ n: string }>("select xact_commit + xact_rollback as n from pg_stat_database where datname = current_database()");
  return Number(result.rows[0]!.n);
}

/** One flushed edit per page every `editMs`, as the edges' flushes would arrive during a spike. */
function startEditing(deployment: ManagedDeployment, slugs: readonly string[], editMs: number) {
  const edits = { merged: 0, failed: 0 };
  const pages = slugs.map((slug) => new FlushingPage(slug));
  const origin = { url: deployment.originUrl, serviceSecret: deployment.serviceSecret };
  let stopped = false;
  const loops = pages.map(async (page, i) => {
    for (let n = 1; !stopped; n++) {
      const startedAt = Date.now();
      await page
        .write(origin, `Read-phase line ${n} of page ${i + 1}.`, ["Spike reader phase"])
        .then(() => edits.merged++)
        .catch(() => edits.failed++);
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, editMs - (Date.now() - startedAt))));
    }
  });
  return {
    edits,
    async stop() {
      stopped = true;
      await Promise.all(loops);
    },
  };
}

export async function runReadPhases(options: {
  deployment: ManagedDeployment;
  slugs: readonly string[];
  settings: ReadersSettings;
  log: (line: string) => void;
}): Promise<ReadersReport> {
  const { deployment, slugs, settings, log } = options;
  const cache = settings.through.includes("cache") ? await startNginxCache({ origin: deployment.originUrl, port: await freePort() }) : undefined;
  const postgres = new pg.Client({ connectionString: deployment.databaseUrl });
  await postgres.connect();
  const editing = startEditing(deployment, slugs, settings.editMs);
  const phases: ReadPhase[] = [];
  try {
    for (const through of settings.through) {
      const base = through === "cache" ? cache!.url : deployment.originUrl;
      log(`\n== readers: ${settings.viewsPerSec} views/s on ${slugs.length} pages through ${through === "cache" ? `the nginx cache at ${base}` : `the origin at ${base}, no cache`}, ${settings.seconds} s ==`);
      // One view of each page first: the spike comes to pages read before it, so the
      // figures are the steady state's, not the first render's queue behind proxy_cache_lock.
      for (const slug of slugs) await (await fetch(`${base}/wiki/${encodeURIComponent(slug)}`)).arrayBuffer();
      const sampler = new UsageSampler([
        { name: "origin (Next.js + API)", pid: deployment.originPid() },
        ...(cache ? [{ name: "nginx (all on the machine)", comm: "nginx" }] : []),
        { name: "readers (this process)", pid: process.pid },
        { name: "postgres (all, shared)", comm: "postgres" },
      ]);
      const countsBefore = await pageViewCounts(deployment.originUrl);
      const transactionsFrom = Date.now();
      const transactionsBefore = await postgresTransactions(postgres);
      const from = Date.now();
      const urls = slugs.map((slug) => `${base}/wiki/${encodeURIComponent(slug)}`);
      const [result, browserReaders] = await Promise.all([
        runReaders({ urls, viewsPerSec: settings.viewsPerSec, seconds: settings.seconds, connections: settings.connections, maxInFlight: settings.maxInFlight }),
        settings.browsers > 0 ? runBrowserReaders({ urls, browsers: settings.browsers, seconds: settings.seconds }) : null,
      ]);
      const to = Date.now();
      sampler.stop();
      // Let the backends report their last second to pg_stat_database.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const countsAfter = await pageViewCounts(deployment.originUrl);
      const transactionsAfter = await postgresTransactions(postgres);
      const transactionsSeconds = (Date.now() - transactionsFrom) / 1000;
      const seconds = (to - from) / 1000;
      const fromCache = Object.entries(result.cacheStatuses).reduce((sum, [status, n]) => sum + (SERVED_BY_CACHE.has(status) ? n : 0), 0);
      const usage = sampler.report(from, to);
      const phase: ReadPhase = {
        through,
        offeredPerSec: Math.round(result.offered / settings.seconds),
        ...result,
        hitRatio: through === "cache" && result.answered > 0 ? round(fromCache / result.answered, 4) : null,
        originRendersPerSec: countsBefore && countsAfter ? round((countsAfter.rendered - countsBefore.rendered) / seconds) : null,
        originNotModifiedPerSec: countsBefore && countsAfter ? round((countsAfter.notModified - countsBefore.notModified) / seconds) : null,
        postgresTransactionsPerSec: round((transactionsAfter - transactionsBefore) / transactionsSeconds),
        usage: usage.processes,
        machineBusyPercent: usage.machineBusyPercent,
        browserReaders,
      };
      phases.push(phase);
      log(
        `  offered ${phase.offeredPerSec}/s, answered ${phase.answeredPerSec}/s (${phase.skipped} skipped, ${phase.failed} failed${phase.failed ? ` ${JSON.stringify(phase.failures)}` : ""}); ` +
          `read p50 ${phase.latencyMs.p50} ms, p99 ${phase.latencyMs.p99} ms; ` +
          `${phase.hitRatio === null ? "" : `hit ratio ${phase.hitRatio} ${JSON.stringify(phase.cacheStatuses)}; `}` +
          `origin renders ${phase.originRendersPerSec}/s (304s ${phase.originNotModifiedPerSec}/s), Postgres ${phase.postgresTransactionsPerSec} tx/s`,
      );
      if (browserReaders) {
        log(
          `  ${browserReaders.browsers} Chromium readers: ${browserReaders.loads} loads, load p50 ${browserReaders.loadMs.p50} ms, p99 ${browserReaders.loadMs.p99} ms; ` +
            `${JSON.stringify(browserReaders.cacheStatuses)}${browserReaders.failed ? `; failed ${JSON.stringify(browserReaders.failures)}` : ""}`,
        );
      }
    }
  } finally {
    await editing.stop();
    await postgres.end();
    await cache?.close();
  }
  return {
    settings,
    pages: [...slugs],
    cacheConfig: NGINX_TEMPLATE.slice(NGINX_TEMPLATE.indexOf("docs/")),
    postgresCounter: "pg_stat_database xact_commit + xact_rollback of the run's scratch database (pg_stat_statements is not installed); the origin's and the harness's transactions, the read phase's edits included",
    edits: editing.edits,
    phases,
  };
}
