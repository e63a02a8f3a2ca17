import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { total } from "../../origin/ops/aggregate";
import { parseMetricsText } from "../../origin/ops/metrics-text";
import { type NginxCache, nginxInstalled, startNginxCache } from "../../e2e/spike/nginx-cache";
import { eventually } from "../support/cluster";
import { testDatabases } from "../support/databases";
import { FlushingPage } from "../support/flushing-page";
import { freePort } from "../support/free-port";
import { type NextOrigin, startNextOrigin } from "../support/next-origin";

/**
 * Issue 21: the self-hosting guide's caching proxy
 * (docs/self-hosting/nginx-cache.conf) in front of the real origin, with
 * Debian's nginx (`apt-get install -y nginx-light`) and the built app
 * (`npm run build`). What it keeps, what it must never keep, and that an
 * edit still gets through it.
 */

// CI installs nginx (.ci/run) and must run these; elsewhere they wait for `apt-get install -y nginx-light`.
const withNginx = nginxInstalled();
if (!withNginx && process.env.CI) throw new Error("nginx-cache tests: no nginx at /usr/sbin/nginx (or NGINX_PATH); .ci/run installs nginx-light");
if (!withNginx) console.warn("no nginx (apt-get install -y nginx-light): skipping the cache tests (CI runs them).");

const view = (cache: NginxCache, slug: string, headers: Record<string, string> = {}) => fetch(`${cache.url}/wiki/${slug}`, { headers });
const statusOf = (response: Response) => response.headers.get("x-cache-status");

/** The origin's count of page views that reached it, by answer. */
async function pageViews(origin: NextOrigin): Promise<{ rendered: number; notModified: number }> {
  const samples = parseMetricsText(await (await fetch(`${origin.url}/metrics`)).text());
  return {
    rendered: total(samples, "weirwood_origin_page_views_total", { view: "page", answer: "rendered" }) ?? Number.NaN,
    notModified: total(samples, "weirwood_origin_page_views_total", { view: "page", answer: "not-modified" }) ?? Number.NaN,
  };
}

async function register(origin: NextOrigin, name: string): Promise<{ cookie: string; token: string }> {
  const response = await fetch(`${origin.url}/api/auth/register`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name, password: "a Lannister always pays his debts" }),
  });
  expect(response.status, await response.clone().text()).toBe(201);
  const cookie = response.headers.getSetCookie()[0]!.split(";")[0]!;
  return { cookie, token: ((await response.json()) as { token: string }).token };
}

describe.runIf(withNginx && testDatabases.some((kind) => kind.name === "postgres"))("the guide's nginx cache in front of the origin", () => {
  let origin: NextOrigin;
  let cache: NginxCache;

  beforeAll(async () => {
    // No text refresh while the tests run: it would renumber a page's revision, and so its tag.
    origin = await startNextOrigin({ ORIGIN_TEXT_REFRESH_MS: "3600000", ORIGIN_TEXT_QUIET_MS: "3600000", ORIGIN_PAGE_MAX_AGE_S: "5" });
    cache = await startNginxCache({ origin: origin.url, port: await freePort() });
  }, 180_000);

  afterAll(async () => {
    await cache?.close();
    await origin?.close();
  });

  async function writtenPage(text: string): Promise<FlushingPage> {
    const page = new FlushingPage(`Braavos_${randomUUID().slice(0, 8)}`);
    await page.write(origin, text);
    return page;
  }

  it("the second anonymous view of a page is a hit, the same bytes, and a matching If-None-Match gets a 304 from the cache", async () => {
    const marker = `Valar${randomUUID().slice(0, 8)}`;
    const page = await writtenPage(`Valar morghulis. ${marker}`);
    const first = await view(cache, page.slug);
    expect(first.status).toBe(200);
    expect(statusOf(first)).toBe("MISS");
    const firstBody = await first.text();
    expect(firstBody).toContain(marker);

    const second = await view(cache, page.slug);
    expect(statusOf(second)).toBe("HIT");
    expect(await second.text()).toBe(firstBody);
    expect(second.headers.get("etag")).toBe(first.headers.get("etag"));

    const conditional = await view(cache, page.slug, { "if-none-match": first.headers.get("etag")! });
    expect(conditional.status).toBe(304);
    expect(statusOf(conditional)).toBe("HIT");
  });

  it("a signed-in request is never answered from the cache, and what it gets is never stored", async () => {
    const { cookie, token } = await register(origin, `Jaqen${randomUUID().slice(0, 6)}`);
    const page = await writtenPage("A girl has no name.");
    // Signed in first, on a page nobody read yet: had it been stored, the anonymous view after it would hit.
    const signedIn = await view(cache, page.slug, { cookie: `theme=dark; ${cookie}` });
    expect(signedIn.status).toBe(200);
    expect(statusOf(signedIn)).toBe("BYPASS");
    const bearer = await view(cache, page.slug, { authorization: `Bearer ${token}` });
    expect(statusOf(bearer)).toBe("BYPASS");
    expect(statusOf(await view(cache, page.slug))).toBe("MISS");

    // And a copy there is not handed to a signed-in reader.
    expect(statusOf(await view(cache, page.slug))).toBe("HIT");
    expect(statusOf(await view(cache, page.slug, { cookie }))).toBe("BYPASS");

    // A cookie that is not the session is an anonymous reader's.
    expect(statusOf(await view(cache, page.slug, { cookie: "theme=dark" }))).toBe("HIT");
  });

  it("a private answer is never stored", async () => {
    const { cookie } = await register(origin, `Syrio${randomUUID().slice(0, 6)}`);
    // GET /api/me is `private, no-store`: even without a session it must not be kept.
    for (let i = 0; i < 3; i++) {
      const me = await fetch(`${cache.url}/api/me`);
      expect(me.headers.get("cache-control")).toMatch(/private/u);
      expect(statusOf(me)).toBe("MISS");
    }
    const mine = await fetch(`${cache.url}/api/me`, { headers: { cookie } });
    expect(statusOf(mine)).toBe("BYPASS");
    expect(((await mine.json()) as { user: { name: string } | null }).user?.name).toMatch(/^Syrio/u);
  });

  it("an expired copy of an unchanged page is revalidated with a 304 that renders nothing, and the origin counts what reached it", async () => {
    const page = await writtenPage("What is dead may never die.");
    const before = await pageViews(origin);
    const first = await view(cache, page.slug);
    expect(statusOf(first)).toBe("MISS");
    await first.text();
    for (let i = 0; i < 5; i++) expect(statusOf(await view(cache, page.slug))).toBe("HIT");
    const afterHits = await pageViews(origin);
    expect(afterHits.rendered - before.rendered).toBe(1);
    expect(afterHits.notModified - before.notModified).toBe(0);

    // Past s-maxage (5 s, which nginx counts in whole seconds from the second it stored the copy):
    // the next reader gets the copy while nginx asks the origin with its ETag.
    await new Promise((resolve) => setTimeout(resolve, 7000));
    expect(["STALE", "REVALIDATED", "EXPIRED"]).toContain(statusOf(await view(cache, page.slug)));
    const afterRevalidation = await eventually(
      () => pageViews(origin),
      (counts) => counts.notModified > afterHits.notModified,
      10_000,
    );
    expect(afterRevalidation.notModified - afterHits.notModified).toBe(1);
    expect(afterRevalidation.rendered).toBe(afterHits.rendered);
    expect(statusOf(await view(cache, page.slug))).toBe("HIT");
  }, 30_000);

  it("an edit reaches readers through the cache once the copy's s-maxage is over", async () => {
    const page = await writtenPage("Winter is coming.");
    await (await view(cache, page.slug)).text();
    expect(statusOf(await view(cache, page.slug))).toBe("HIT");
    const edited = `The night is dark. ${randomUUID().slice(0, 8)}`;
    await page.write(origin, edited);
    // s-maxage 5: then the first reader gets the stale copy while nginx revalidates, and the next the new one.
    const fresh = await eventually(
      async () => (await view(cache, page.slug)).text(),
      (body) => body.includes(edited),
      30_000,
    );
    expect(fresh).toContain(edited);
  }, 40_000);
});

/**
 * An answer that says `public` but sets a cookie. The origin sends none
 * today (its public views set no cookie: tests/origin/cacheable-pages.test.ts),
 * so a small server of the test's own plays that origin: what is under test
 * is that the guide's file keeps nginx's refusal to store it.
 */
describe.runIf(withNginx)("the guide's nginx cache and an answer that sets a cookie", () => {
  let upstream: Server;
  let cache: NginxCache;
  let served = 0;

  beforeAll(async () => {
    upstream = createServer((request, response) => {
      served++;
      response.setHeader("cache-control", "public, s-maxage=60");
      if (request.url === "/with-cookie") response.setHeader("set-cookie", `weirwood_session=s${served}; Path=/; HttpOnly`);
      response.end(`answer ${served}`);
    });
    const port = await freePort();
    await new Promise<void>((resolve) => upstream.listen(port, "127.0.0.1", resolve));
    cache = await startNginxCache({ origin: `http://127.0.0.1:${port}`, port: await freePort() });
  });

  afterAll(async () => {
    await cache?.close();
    await new Promise((resolve) => upstream?.close(resolve));
  });

  it("an answer with Set-Cookie is passed on but not stored, while the same answer without one is", async () => {
    const firstCookie = await fetch(`${cache.url}/with-cookie`);
    const secondCookie = await fetch(`${cache.url}/with-cookie`);
    expect(statusOf(secondCookie)).toBe("MISS");
    expect(secondCookie.headers.get("set-cookie")).not.toBe(firstCookie.headers.get("set-cookie"));
    expect(await secondCookie.text()).not.toBe(await firstCookie.text());

    await (await fetch(`${cache.url}/without`)).text();
    expect(statusOf(await fetch(`${cache.url}/without`))).toBe("HIT");
  });
});
