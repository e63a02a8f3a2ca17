import { expect, test } from "@playwright/test";
import { adminAccount, logIn, registerEditor } from "./support/accounts";
import { seedPage, uniqueSlug } from "./support/seed";

/**
 * Issue 21: a page view is the same HTML for everyone, kept by shared
 * caches; what is the reader's own (their name, the edit and protect
 * buttons, the admin's links) comes from GET /api/me after load.
 */

test("a signed-in editor sees their name and the Edit tab on a page view shared caches keep, also when it revalidates with a 304", async ({ page, request }) => {
  const slug = uniqueSlug("Highgarden");
  await seedPage(request, slug, "Growing strong.");
  const account = await registerEditor(page.request, "Olenna");

  const response = await page.goto(`/wiki/${slug}`);
  expect(response?.headers()["cache-control"]).toMatch(/^public\b.*\bs-maxage=\d+/u);
  const etag = response?.headers()["etag"];
  expect(etag).toMatch(/^"[^"]+"$/u);
  // The HTML itself names no one: the header fills in after load.
  expect(await response?.text()).not.toContain(account.name);
  await expect(page.getByTestId("who")).toHaveText(account.name);
  await expect(page.locator(".page-tabs").getByRole("link", { name: "Edit" })).toBeVisible();
  await expect(page.locator(".site-nav").getByRole("link", { name: "New page" })).toBeVisible();
  await expect(page.locator(".site-header").getByRole("link", { name: "Log in" })).toHaveCount(0);

  // The same page from the browser's cache, revalidated by its ETag.
  const revalidated = await page.request.get(`/wiki/${slug}`, { headers: { "if-none-match": etag! } });
  expect(revalidated.status()).toBe(304);
  await page.reload();
  await expect(page.getByTestId("who")).toHaveText(account.name);
  await expect(page.locator(".page-tabs").getByRole("link", { name: "Edit" })).toBeVisible();
});

test("an admin gets the protect button and the Operations link on the same cached HTML an anonymous reader gets", async ({ browser, request }) => {
  const slug = uniqueSlug("Casterly_Rock");
  await seedPage(request, slug, "Hear me roar.");
  const context = await browser.newContext();
  const admin = await context.newPage();
  await logIn(admin.request, adminAccount());
  const response = await admin.goto(`/wiki/${slug}`);
  expect(response?.headers()["cache-control"]).toMatch(/^public\b/u);
  const anonymous = await request.get(`/wiki/${slug}`);
  expect(anonymous.headers()["etag"]).toBe(response?.headers()["etag"]);
  expect(await response?.text()).toBe(await anonymous.text());
  await expect(admin.getByTestId("who")).toContainText(adminAccount().name);
  await expect(admin.getByRole("button", { name: "Protect (admins only)" })).toBeVisible();
  await expect(admin.locator(".site-nav").getByRole("link", { name: "Operations" })).toBeVisible();
  await context.close();
});

test("an anonymous reader of a cached page view is offered to log in, and no edit button", async ({ page, request }) => {
  const slug = uniqueSlug("Pyke");
  await seedPage(request, slug, "We do not sow.");
  await page.goto(`/wiki/${slug}`);
  await expect(page.getByRole("link", { name: "Log in to edit" })).toBeVisible();
  await expect(page.locator(".site-header").getByRole("link", { name: "Log in" })).toBeVisible();
  await expect(page.locator(".page-tabs").getByRole("link", { name: "Edit" })).toHaveCount(0);
  await expect(page.getByTestId("who")).toHaveCount(0);
});
