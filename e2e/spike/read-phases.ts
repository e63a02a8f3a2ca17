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
  /** Worker threads the readers' offer is spread over. */
  threads: number;
  /** A view not sent within this long after falling due is skipped. */
  maxQueueMs: number;
  /**
   * During the first level's measured load (true), so that its write
   * figures are those of a spike with readers; or after the levels (false),
   * with edits of the harness's own (`editMs`) keeping the pages changing.
   */
  during: boolean;
  /** Chromium readers beside the HTTP ones (browser-readers.ts), each loading the views in turn. */
  browsers: number;
  /** After the levels, each hot page gets one flushed edit this often while the readers read, so that copies go out of date. */
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
  /** Where the machine's time went, in percent of one core (softirq: mostly the loopback network, in no process). */
  machine: UsageReport["machine"];
  /** Busy time of the machine not in any process listed in usage, in percent of one core: other engineers' work, softirq, the kernel. */
  restOfMachinePercent: number;
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

/** The first view of a page, once it answers 200 (within `waitMs`): readers then start from a cached copy. */
async function firstView(url: string, waitMs: number): Promise<void> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    // The readers' own headers: under Vary: Accept-Encoding another encoding is another copy, and the
    // readers' first views of it would all wait behind one render (proxy_cache_lock).
    const response = await fetch(url, { headers: { "accept-encoding": "gzip", accept: "text/html" } });
    await response.arrayBuffer();
    if (response.ok || Date.now() >= deadline) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

export async function runReadPhases(options: {
  deployment: ManagedDeployment;
  slugs: readonly string[];
  settings: ReadersSettings;
  log: (line: string) => void;
  /** With `settings.during`: resolves to the epoch ms at which the level's measured load begins. */
  loadBegins?: Promise<number>;
}): Promise<ReadersReport> {
  const { deployment, slugs, settings, log } = options;
  if (settings.during) {
    if (!options.loadBegins) throw new Error("readers: --readers-during needs the level's start");
    const at = await options.loadBegins;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, at - Date.now())));
  }
  const cache = settings.through.includes("cache") ? await startNginxCache({ origin: deployment.originUrl, port: await freePort() }) : undefined;
  const postgres = new pg.Client({ connectionString: deployment.databaseUrl });
  await postgres.connect();
  // During a level its editors change the pages; after the levels, the harness does.
  const editing = settings.during ? undefined : startEditing(deployment, slugs, settings.editMs);
  const phases: ReadPhase[] = [];
  try {
    for (const through of settings.through) {
      const base = through === "cache" ? cache!.url : deployment.originUrl;
      log(`\n== readers: ${settings.viewsPerSec} views/s on ${slugs.length} pages through ${through === "cache" ? `the nginx cache at ${base}` : `the origin at ${base}, no cache`}, ${settings.seconds} s ==`);
      // One view of each page first: the spike comes to pages read before it, so the
      // figures are the steady state's, not the first render's queue behind proxy_cache_lock.
      // During a level a page reaches the origin with the edges' first flush: wait for it.
      for (const slug of slugs) await firstView(`${base}/wiki/${encodeURIComponent(slug)}`, settings.during ? 15_000 : 0);
      const sampler = new UsageSampler([
        { name: "origin (Next.js + API)", pid: deployment.originPid() },
        ...(cache ? [{ name: "nginx (all on the machine)", comm: "nginx" }] : []),
        { name: "harness (this process: readers' threads, editors' threads, Playwright)", pid: process.pid },
        { name: "edge replicas (all on the machine)", cmdline: "edge/main.ts" },
        { name: "chromium (all on the machine)", comm: "chromium" },
        { name: "postgres (all, shared)", comm: "postgres" },
        { name: "nats-server (shared)", comm: "nats-server" },
      ]);
      const countsBefore = await pageViewCounts(deployment.originUrl);
      const transactionsFrom = Date.now();
      const transactionsBefore = await postgresTransactions(postgres);
      const from = Date.now();
      const urls = slugs.map((slug) => `${base}/wiki/${encodeURIComponent(slug)}`);
      const [result, browserReaders] = await Promise.all([
        runReaders({ urls, viewsPerSec: settings.viewsPerSec, seconds: settings.seconds, connections: settings.connections, threads: settings.threads, maxQueueMs: settings.maxQueueMs }),
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
        machine: usage.machine,
        restOfMachinePercent: Math.max(0, usage.machine.user + usage.machine.system + usage.machine.softirq - usage.processes.reduce((sum, p) => sum + p.cpuPercent, 0)),
        machineBusyPercent: usage.machineBusyPercent,
        browserReaders,
      };
      phases.push(phase);
      log(
        `  offered ${phase.offeredPerSec}/s, answered ${phase.answeredPerSec}/s (${phase.skipped} skipped, ${phase.failed} failed${phase.failed ? ` ${JSON.stringify(phase.failures)}` : ""}); ` +
          `read p50 ${phase.latencyMs.p50} ms, p99 ${phase.latencyMs.p99} ms (of all offered: ${phase.p99OfOfferedMs ?? "-"} ms); ` +
          `${phase.hitRatio === null ? "" : `hit ratio ${phase.hitRatio} ${JSON.stringify(phase.cacheStatuses)}; `}` +
          `origin renders ${phase.originRendersPerSec}/s (304s ${phase.originNotModifiedPerSec}/s), Postgres ${phase.postgresTransactionsPerSec} tx/s`,
      );
      log(
        `  answered per second: ${phase.timeline.map((second) => second.answered).join(" ")}; CPU % of a core: readers' ${phase.threads} threads ${phase.cpuPercent}, ` +
          `${phase.usage.map((p) => `${p.name.replace(/ \(.*/u, "")} ${p.cpuPercent}`).join(", ")}, rest of the machine ${phase.restOfMachinePercent} (softirq ${phase.machine.softirq}); machine ${phase.machineBusyPercent}% busy`,
      );
      if (browserReaders) {
        log(
          `  ${browserReaders.browsers} Chromium readers: ${browserReaders.loads} loads, load p50 ${browserReaders.loadMs.p50} ms, p99 ${browserReaders.loadMs.p99} ms; ` +
            `${JSON.stringify(browserReaders.cacheStatuses)}${browserReaders.failed ? `; failed ${JSON.stringify(browserReaders.failures)}` : ""}`,
        );
      }
    }
  } finally {
    await editing?.stop();
    await postgres.end();
    await cache?.close();
  }
  return {
    settings,
    pages: [...slugs],
    cacheConfig: NGINX_TEMPLATE.slice(NGINX_TEMPLATE.indexOf("docs/")),
    postgresCounter: "pg_stat_database xact_commit + xact_rollback of the run's scratch database (pg_stat_statements is not installed); the origin's and the harness's transactions, the read phase's edits included",
    edits: editing?.edits ?? { merged: 0, failed: 0 },
    phases,
  };
}
