import { expect, type Page, test } from "@playwright/test";
import { registerEditor } from "./support/accounts";
import { editor } from "./support/editor";
import { LIVE_EDGES, WAITING_FOR_THE_EDGE } from "./support/live-edges";
import { seedPage, uniqueSlug } from "./support/seed";

/**
 * Issue 18 item 5: every wiki page carries a Content-Security-Policy that
 * runs only the page's own (nonce'd) scripts, and the editor, which loads
 * Next.js chunks and opens WebSockets to edges on other ports, still works
 * under it, in real Chromium, with no violation reported.
 */

/** Records every CSP violation the page reports, as events and as console errors. */
async function watchViolations(page: Page): Promise<() => Promise<string[]>> {
  const console: string[] = [];
  page.on("console", (message) => {
    if (/Content Security Policy/iu.test(message.text())) console.push(message.text());
  });
  // Added through the DevTools protocol, which the page's CSP does not govern.
  await page.addInitScript(() => {
    const seen: string[] = [];
    (window as unknown as { __cspViolations: string[] }).__cspViolations = seen;
    document.addEventListener("securitypolicyviolation", (event) => seen.push(`${event.violatedDirective} ${event.blockedURI}`));
  });
  return async () => [...console, ...(await page.evaluate(() => (window as unknown as { __cspViolations: string[] }).__cspViolations))];
}

test("a wiki page is served with a nonce-based CSP, nosniff, a referrer policy and no framing", async ({ request }) => {
  const slug = uniqueSlug("Headers");
  await seedPage(request, slug, "The night is dark and full of terrors.");
  const response = await request.get(`/wiki/${slug}`);
  expect(response.status()).toBe(200);
  const headers = response.headers();
  const csp = headers["content-security-policy"] ?? "";
  const scriptSrc = csp.split(";").map((directive) => directive.trim()).find((directive) => directive.startsWith("script-src ")) ?? "";
  expect(scriptSrc).toMatch(/^script-src 'self' 'nonce-[A-Za-z0-9+/=]{16,}' 'strict-dynamic'$/u);
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).toContain("object-src 'none'");
  expect(csp).toMatch(/connect-src 'self' ws:\/\/127\.0\.0\.1:\*/u);
  expect(headers["x-content-type-options"]).toBe("nosniff");
  expect(headers["referrer-policy"]).toBe("strict-origin-when-cross-origin");
  // Every script tag carries this response's nonce.
  const nonce = /'nonce-([^']+)'/u.exec(scriptSrc)![1]!;
  const html = await response.text();
  const scripts = html.match(/<script\b[^>]*>/gu) ?? [];
  expect(scripts.length).toBeGreaterThan(0);
  for (const tag of scripts) expect(tag).toContain(`nonce="${nonce}"`);
  // A page shared caches keep has one nonce per version of it (its ETag,
  // docs/security.md); a page rendered for one reader, a new one each time.
  const nonceOf = (csp: string | undefined) => /'nonce-([^']+)'/u.exec(csp ?? "")?.[1];
  const again = await request.get(`/wiki/${slug}`);
  if (again.headers()["etag"] === headers["etag"]) expect(nonceOf(again.headers()["content-security-policy"])).toBe(nonce);
  const history = [await request.get(`/wiki/${slug}/history`), await request.get(`/wiki/${slug}/history`)];
  expect(history[0]!.headers()["etag"]).toBeUndefined();
  expect(nonceOf(history[1]!.headers()["content-security-policy"])).not.toBe(nonceOf(history[0]!.headers()["content-security-policy"]));
});

test("script that slipped into a wiki page's HTML does not run, while the page's own scripts do", async ({ page, request }) => {
  const slug = uniqueSlug("Injected");
  await seedPage(request, slug, "Nothing to see here.");
  const violations = await watchViolations(page);
  // What a sanitizer bug would let through, put into the real answer (its own CSP header kept).
  await page.route(`**/wiki/${slug}`, async (route) => {
    const response = await route.fetch();
    const html = (await response.text()).replace(
      "Nothing to see here.",
      'Nothing to see here.<script>window.__injectedScriptRan = true</script><img src="data:," onerror="window.__injectedHandlerRan = true">',
    );
    await route.fulfill({ response, body: html });
  });
  await page.goto(`/wiki/${slug}`);
  await expect(page.locator(".page-body")).toContainText("Nothing to see here.");
  await expect.poll(async () => (await violations()).filter((violation) => violation.startsWith("script-src")).length).toBeGreaterThanOrEqual(2);
  expect(await page.evaluate(() => ({ script: Object.hasOwn(window, "__injectedScriptRan"), handler: Object.hasOwn(window, "__injectedHandlerRan") }))).toEqual({
    script: false,
    handler: false,
  });
  // The page's own inline scripts, which carry the nonce, ran: Next.js's flight data is there.
  expect(await page.evaluate(() => Array.isArray((window as unknown as { __next_f?: unknown }).__next_f))).toBe(true);
});

test.describe("the editor under the CSP", () => {
  test.fixme(!LIVE_EDGES, WAITING_FOR_THE_EDGE);
  test.describe.configure({ timeout: 60_000 });

  test("types through a real edge, the text is saved to the wiki, and no CSP violation is reported", async ({ page }) => {
    const violations = await watchViolations(page);
    await registerEditor(page.request, "Csp");
    const slug = uniqueSlug("Under_CSP");
    const response = await page.goto(`/wiki/${slug}/edit`);
    expect(response?.headers()["content-security-policy"]).toMatch(/script-src 'self' 'nonce-/u);
    await expect(editor.content(page)).toBeVisible();
    await expect(editor.connection(page)).toHaveText(/^Connected to .+ · replica /u, { timeout: 15_000 });
    await editor.type(page, "Hodor holds the door.");
    await expect(editor.saving(page)).toHaveText(/^Saved to the wiki at \d\d:\d\d:\d\d$/u, { timeout: 20_000 });
    const saved = (await (await page.request.get(`/api/pages/${slug}`)).json()) as { text: string };
    expect(saved.text).toBe("Hodor holds the door.");
    // The preview (rendered Markdown) and presence work too: the page rendered them under the same policy.
    await expect(editor.preview(page)).toContainText("Hodor holds the door.");
    expect(await violations()).toEqual([]);
  });
});
