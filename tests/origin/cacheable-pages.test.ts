import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testDatabases } from "../support/databases";
import { FlushingPage } from "../support/flushing-page";
import { type NextOrigin, startNextOrigin } from "../support/next-origin";

/**
 * Issue 21: a page view is the same HTML for every reader, so that shared
 * caches keep it. Against Next's production server as the origin hosts it
 * (origin/server/next-host.ts) on Postgres; `npm run build` first.
 */

interface Account {
  name: string;
  cookie: string;
  token: string;
}

async function register(origin: NextOrigin, name: string): Promise<Account> {
  const response = await fetch(`${origin.url}/api/auth/register`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name, password: "the things I do for love" }),
  });
  expect(response.status, await response.clone().text()).toBe(201);
  const cookie = response.headers.getSetCookie()[0]!.split(";")[0]!;
  return { name, cookie, token: ((await response.json()) as { token: string }).token };
}

function view(origin: NextOrigin, slug: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${origin.url}/wiki/${slug}`, { headers });
}

describe.runIf(testDatabases.some((kind) => kind.name === "postgres"))("page views shared caches may keep (Next on Postgres)", () => {
  let origin: NextOrigin;
  let page: FlushingPage;
  const marker = `Hodor${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    // No text refresh while the tests run: it would renumber the page's
    // revision between two reads, and so its tag. Reads merge the flushes
    // themselves (origin/pages.ts), so an edit still shows at once.
    origin = await startNextOrigin({ ORIGIN_TEXT_REFRESH_MS: "3600000", ORIGIN_TEXT_QUIET_MS: "3600000" });
    page = new FlushingPage(`Winterfell_${randomUUID().slice(0, 8)}`);
    await page.write(origin, `The north remembers. ${marker}`);
  }, 180_000);

  afterAll(async () => {
    await origin?.close();
  });

  it("an anonymous page view is public, has a strong ETag, and answers 304 to a matching If-None-Match", async () => {
    const first = await view(origin, page.slug);
    expect(first.status).toBe(200);
    expect(await first.text()).toContain(marker);
    const cacheControl = first.headers.get("cache-control") ?? "";
    expect(cacheControl).toMatch(/^public\b/u);
    expect(cacheControl).toMatch(/\bs-maxage=\d+\b/u);
    expect(cacheControl).toMatch(/\bstale-while-revalidate=\d+\b/u);
    expect(cacheControl).not.toMatch(/private|no-store|no-cache/u);
    const etag = first.headers.get("etag");
    expect(etag).toMatch(/^"[^"]+"$/u);

    const again = await view(origin, page.slug, { "if-none-match": etag! });
    expect(again.status).toBe(304);
    expect(again.headers.get("etag")).toBe(etag);
    expect(again.headers.get("cache-control")).toBe(cacheControl);
    expect(await again.text()).toBe("");

    // A strong tag: one tag, one body, byte for byte (its CSP nonce too).
    const third = await view(origin, page.slug);
    expect(third.headers.get("etag")).toBe(etag);
    expect(await third.text()).toBe(await (await view(origin, page.slug)).text());
  });

  it("the ETag changes once an edit is merged, and the old one no longer gets a 304", async () => {
    const before = await view(origin, page.slug);
    const oldTag = before.headers.get("etag")!;
    const edited = `Winter is coming. ${randomUUID().slice(0, 8)}`;
    await page.write(origin, edited);

    const after = await view(origin, page.slug, { "if-none-match": oldTag });
    expect(after.status).toBe(200);
    expect(await after.text()).toContain(edited);
    expect(after.headers.get("etag")).not.toBe(oldTag);
    const newTag = after.headers.get("etag")!;
    expect((await view(origin, page.slug, { "if-none-match": newTag })).status).toBe(304);
  });

  it("a redirect's view is its target's, cached under the redirect's URL, and its ETag follows the target's edits (issue 22)", async () => {
    const id = randomUUID().slice(0, 8);
    const target = new FlushingPage(`Dragonstone_${id}`);
    const redirect = new FlushingPage(`Stone_${id}`);
    await target.write(origin, `The seat of House Targaryen. ${marker}`);
    await redirect.write(origin, `#REDIRECT [[Dragonstone ${id}]]`);
    const first = await view(origin, redirect.slug);
    expect(first.status).toBe(200);
    const html = await first.text();
    expect(html).toContain("The seat of House Targaryen.");
    expect(html).toContain(`${redirect.slug}?redirect=no`);
    expect(first.headers.get("cache-control")).toMatch(/^public\b/u);
    const etag = first.headers.get("etag")!;
    expect((await view(origin, redirect.slug, { "if-none-match": etag })).status).toBe(304);

    await target.write(origin, `The seat of House Baratheon. ${marker}`);
    const after = await view(origin, redirect.slug, { "if-none-match": etag });
    expect(after.status).toBe(200);
    expect(await after.text()).toContain("The seat of House Baratheon.");

    // As itself (?redirect=no) the redirect is some other request: never the cached view's tag.
    const asItself = await fetch(`${origin.url}/wiki/${redirect.slug}?redirect=no`);
    expect(asItself.status).toBe(200);
    expect(await asItself.text()).toContain("This page is a redirect to");
    expect(asItself.headers.get("etag")).toBeNull();
  });

  it("signed-in readers get the very HTML anonymous ones do, naming no one and holding no token", async () => {
    const [sansa, tyrion] = await Promise.all([register(origin, `Sansa${randomUUID().slice(0, 6)}`), register(origin, `Tyrion${randomUUID().slice(0, 6)}`)]);
    const anonymous = await view(origin, page.slug);
    const asSansa = await view(origin, page.slug, { cookie: sansa.cookie });
    const asTyrion = await view(origin, page.slug, { cookie: tyrion.cookie });
    const bodies = await Promise.all([anonymous, asSansa, asTyrion].map((response) => response.text()));
    expect(bodies[1]).toBe(bodies[0]);
    expect(bodies[2]).toBe(bodies[0]);
    for (const response of [asSansa, asTyrion]) {
      expect(response.headers.get("etag")).toBe(anonymous.headers.get("etag"));
      expect(response.headers.get("cache-control")).toBe(anonymous.headers.get("cache-control"));
      expect(response.headers.get("set-cookie")).toBeNull();
    }
    for (const account of [sansa, tyrion]) {
      expect(bodies[0]).not.toContain(account.name);
      expect(bodies[0]).not.toContain(account.cookie.split("=")[1]);
      expect(bodies[0]).not.toContain(account.token);
    }
    expect(bodies[0]).not.toMatch(/csrf/iu);
  });

  it("GET /api/me names the session's account, privately", async () => {
    const arya = await register(origin, `Arya${randomUUID().slice(0, 6)}`);
    const mine = await fetch(`${origin.url}/api/me`, { headers: { cookie: arya.cookie } });
    expect(mine.status).toBe(200);
    expect(((await mine.json()) as { user: { name: string } }).user.name).toBe(arya.name);
    expect(mine.headers.get("cache-control")).toBe("private, no-store");
    expect(mine.headers.get("etag")).toBeNull();
    expect(mine.headers.get("vary")).toMatch(/\bcookie\b/iu);

    const nobody = await fetch(`${origin.url}/api/me`);
    expect(nobody.status).toBe(200);
    expect(await nobody.json()).toEqual({ user: null });
    expect(nobody.headers.get("cache-control")).toBe("private, no-store");
  });

  it("the home page is public too, and the same for a signed-in reader", async () => {
    const jon = await register(origin, `Jon${randomUUID().slice(0, 6)}`);
    const anonymous = await fetch(`${origin.url}/`);
    const signedIn = await fetch(`${origin.url}/`, { headers: { cookie: jon.cookie } });
    expect(anonymous.headers.get("cache-control")).toMatch(/^public\b/u);
    const etag = anonymous.headers.get("etag")!;
    expect(etag).toMatch(/^"[^"]+"$/u);
    const body = await anonymous.text();
    expect(await signedIn.text()).toBe(body);
    expect(body).not.toContain(jon.name);
    expect((await fetch(`${origin.url}/`, { headers: { "if-none-match": etag } })).status).toBe(304);
  });

  it("the read API keeps its ETag and public Cache-Control through Next's route handlers, and search stays private", async () => {
    const read = await fetch(`${origin.url}/api/pages/${page.slug}`);
    expect(read.headers.get("cache-control")).toMatch(/^public\b/u);
    const etag = read.headers.get("etag")!;
    expect(etag).toMatch(/^"[^"]+"$/u);
    expect((await fetch(`${origin.url}/api/pages/${page.slug}`, { headers: { "if-none-match": etag } })).status).toBe(304);
    expect((await fetch(`${origin.url}/api/search?q=north`)).headers.get("cache-control")).toBe("private, no-store");
  });

  it("a client cannot choose a page's script nonce, cached page or not", async () => {
    for (const path of [`/wiki/${page.slug}`, `/wiki/${page.slug}/history`, "/login"]) {
      const response = await fetch(`${origin.url}${path}`, { headers: { "x-weirwood-csp-nonce": "chosenbythereader0000000" } });
      expect(response.status, path).toBe(200);
      expect(response.headers.get("content-security-policy"), path).not.toContain("chosenbythereader");
      expect(await response.text(), path).not.toContain("chosenbythereader");
    }
  });
});
