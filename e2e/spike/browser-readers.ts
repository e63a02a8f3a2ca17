import type { Browser } from "@playwright/test";
import { type Percentiles, percentiles } from "../load/stats";
import { launchChromium } from "./browser-editors";

/**
 * A few real Chromium readers beside the HTTP ones (readers.ts): each loads
 * the hot pages' views in turn, as fast as they load, in one tab of its own
 * (a browser context each, anonymous). From the second round on the tab has
 * the page's scripts and a copy of its HTML: Cache-Control `max-age=0`
 * makes it revalidate that copy with If-None-Match at every load, as a
 * reader who keeps reloading does. What they add is the time to a loaded
 * page, scripts and all, and that a browser's view goes through the cache.
 */

export interface BrowserReadersResult {
  browsers: number;
  loads: number;
  failed: number;
  failures: Record<string, number>;
  /** From navigation start to the load event. */
  loadMs: Percentiles;
  /** The document's X-Cache-Status, by load (`none` without a cache). */
  cacheStatuses: Record<string, number>;
}

const count = (record: Record<string, number>, key: string) => (record[key] = (record[key] ?? 0) + 1);

export async function runBrowserReaders(options: { urls: readonly string[]; browsers: number; seconds: number }): Promise<BrowserReadersResult> {
  const browser: Browser = await launchChromium();
  const times: number[] = [];
  const failures: Record<string, number> = {};
  const cacheStatuses: Record<string, number> = {};
  const endAt = Date.now() + options.seconds * 1000;
  try {
    await Promise.all(
      Array.from({ length: options.browsers }, async (_, reader) => {
        const context = await browser.newContext();
        const page = await context.newPage();
        try {
          for (let n = reader; Date.now() < endAt; n++) {
            const startedAt = performance.now();
            try {
              const response = await page.goto(options.urls[n % options.urls.length]!, { waitUntil: "load", timeout: 30_000 });
              const status = response?.status() ?? 0;
              if (status !== 200 && status !== 304) {
                count(failures, `HTTP ${status}`);
                continue;
              }
              times.push(performance.now() - startedAt);
              count(cacheStatuses, response?.headers()["x-cache-status"] ?? "none");
            } catch (error) {
              count(failures, (error as Error).message.split("\n")[0]!.slice(0, 80));
            }
          }
        } finally {
          await context.close();
        }
      }),
    );
  } finally {
    await browser.close();
  }
  const failed = Object.values(failures).reduce((sum, n) => sum + n, 0);
  return { browsers: options.browsers, loads: times.length, failed, failures, loadMs: percentiles(times), cacheStatuses };
}
