import { randomUUID } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../common/logger";
import { serveOrigin } from "../../origin/http/node-adapter";
import { TextRefresher, type RefresherOptions } from "../../origin/refresher";
import { searchPages } from "../../origin/search";
import type { RefreshOutcome } from "../../origin/text-refresh";
import { testDatabases } from "../support/databases";
import { FlushingPage } from "../support/flushing-page";
import { startTestOrigin, type TestOrigin } from "../support/origin";

/**
 * The origin's refresher is woken by the flushes it merges, not by asking
 * Postgres four times a second (issue 19: an idle origin's CPU and queries).
 * These pages are flushed through the origin's HTTP API as edges do; the
 * refresher under test is started by each test (the origin's own is stopped),
 * with a sweep far off unless the test is about the sweep.
 */
describe.each(testDatabases)("the origin's refresher ($name)", (database) => {
  let origin: TestOrigin;
  let served: Awaited<ReturnType<typeof serveOrigin>>;
  let target: { url: string; serviceSecret: string };
  let refresher: TextRefresher | undefined;
  const refreshed: (RefreshOutcome & { at: number })[] = [];

  beforeAll(async () => {
    origin = await startTestOrigin(database);
    await origin.textRefresher.stop();
    served = await serveOrigin(origin);
    target = { url: served.url, serviceSecret: origin.serviceSecret };
  });
  afterEach(async () => {
    await refresher?.stop();
    refresher = undefined;
  });
  afterAll(async () => {
    await served?.close();
    await origin?.close();
  });

  /** A refresher over the origin's database, told of what the origin merges, as the runtime wires it. */
  function startRefresher(options: Partial<RefresherOptions>): TextRefresher {
    const started = new TextRefresher(origin.db.prisma, createLogger("refresher-test", "silent"), {
      quietMs: 60_000,
      refreshMs: 60_000,
      sweepMs: 600_000,
      onRefreshed: (outcome) => refreshed.push({ ...outcome, at: Date.now() }),
      ...options,
    });
    started.start();
    const listen = (commit: { slugs: string[] }) => started.noteFlushed(commit.slugs);
    origin.committed.add(listen);
    const stop = started.stop.bind(started);
    started.stop = async () => {
      origin.committed.delete(listen);
      await stop();
    };
    refresher = started;
    return started;
  }

  const storedText = async (slug: string) => (await origin.db.prisma.page.findUnique({ where: { slug }, select: { text: true } }))?.text;
  const titleFound = async (slug: string) => (await searchPages(origin.db.prisma, { query: slug.split("_")[0]! })).some((hit) => hit.slug === slug);

  it("refreshes a flushed page once it is quiet, woken by the flush itself", async () => {
    startRefresher({ quietMs: 300 });
    const page = new FlushingPage(`Riverrun_${randomUUID().slice(0, 8)}`);
    await page.write(target, "Seat of House Tully. [[Twins]]");
    await expect.poll(() => storedText(page.slug), { timeout: 10_000 }).toBe("Seat of House Tully. [[Twins]]");
    const links = await origin.db.prisma.link.findMany({ where: { from: { slug: page.slug } }, select: { toSlug: true } });
    expect(links.map((link) => link.toSlug)).toEqual(["Twins"]);
  });

  it("asks Postgres when the page is due: a later flush it did not hear of (another origin's) moves the refresh to the page's real quiet time", async () => {
    const quietMs = 1500;
    startRefresher({ quietMs });
    const page = new FlushingPage(`Harrenhal_${randomUUID().slice(0, 8)}`);
    await page.write(target, "Black Harren's castle.");
    await new Promise((resolve) => setTimeout(resolve, 700));
    // Merged without this refresher hearing of it, as by another origin process.
    const listeners = [...origin.committed];
    origin.committed.clear();
    await page.write(target, "Black Harren's castle, burnt.").finally(() => listeners.forEach((listener) => origin.committed.add(listener)));
    const lastFlushAt = Date.now();
    await expect.poll(() => storedText(page.slug), { timeout: 10_000 }).toBe("Black Harren's castle, burnt.");
    const outcomes = refreshed.filter((outcome) => outcome.slug === page.slug && outcome.refreshed);
    expect(outcomes).toHaveLength(1);
    // Not at the quiet time of the flush it heard, 800 ms after the last one: a lower bound, which a slow machine only widens.
    expect(outcomes[0]!.at - lastFlushAt).toBeGreaterThanOrEqual(quietMs - 200);
  });

  it("finds by its sweep a page merged where it did not hear it", async () => {
    const page = new FlushingPage(`Pyke_${randomUUID().slice(0, 8)}`);
    const listeners = [...origin.committed];
    origin.committed.clear();
    await page.write(target, "What is dead may never die.").finally(() => listeners.forEach((listener) => origin.committed.add(listener)));
    startRefresher({ quietMs: 0, sweepMs: 300 });
    await expect.poll(() => storedText(page.slug), { timeout: 10_000 }).toBe("What is dead may never die.");
  });

  it("gives a new page its search copy within a second of its first flush, long before its text is due", async () => {
    startRefresher({ quietMs: 600_000, refreshMs: 600_000 });
    // The sweep at the start has run; the page comes after it.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const page = new FlushingPage(`Oldtown_${randomUUID().slice(0, 8)}`);
    await page.write(target, "The Citadel.");
    await expect.poll(() => titleFound(page.slug), { timeout: 5_000 }).toBe(true);
    expect(await storedText(page.slug)).toBe("");
  });
});
