import { expect, test } from "@playwright/test";
import { registerEditor } from "./support/accounts";
import { seedPage, uniqueSlug } from "./support/seed";

test("a link to an existing page is blue, a link to a missing page red (MediaWiki's class \"new\")", async ({ page, request }) => {
  const target = uniqueSlug("Winterfell");
  const missing = uniqueSlug("Castle_Black");
  await seedPage(request, target, "Seat of House Stark.");
  const source = uniqueSlug("The_North");
  await seedPage(request, source, `Go to [[${target.replaceAll("_", " ")}]] or [[${missing}|the Wall]].`);

  await page.goto(`/wiki/${source}`);
  const blue = page.locator(".page-body a", { hasText: target.replaceAll("_", " ") });
  const red = page.locator(".page-body a", { hasText: "the Wall" });
  await expect(blue).toHaveClass("wikilink");
  await expect(blue).toHaveAttribute("href", `/wiki/${target}`);
  await expect(red).toHaveClass("wikilink new");
  await expect(red).toHaveAttribute("href", `/wiki/${missing}/edit`);
  expect(await red.evaluate((link) => getComputedStyle(link).color)).not.toBe(await blue.evaluate((link) => getComputedStyle(link).color));

  await blue.click();
  await expect(page).toHaveURL(new RegExp(`/wiki/${target}$`));
  await expect(page.locator(".page-body")).toHaveText("Seat of House Stark.");
});

test("a red link leads a logged-in editor to the new page's editor", async ({ page, request }) => {
  await registerEditor(page.request);
  const missing = uniqueSlug("Dreadfort");
  const source = uniqueSlug("Bolton_lands");
  await seedPage(request, source, `The [[${missing}]] is cold.`);
  await page.goto(`/wiki/${source}`);
  await page.locator(".page-body a.new").click();
  await expect(page).toHaveURL(new RegExp(`/wiki/${missing}/edit$`));
  await expect(page.getByText("Creating a new page")).toBeVisible();
  await expect(page.getByTestId("editor")).toBeVisible();
});

test("a missing page answers 404 and offers to create it", async ({ page }) => {
  const missing = uniqueSlug("Nowhere");
  const response = await page.goto(`/wiki/${missing}`);
  expect(response?.status()).toBe(404);
  await expect(page.getByRole("heading", { name: missing.replaceAll("_", " ") })).toBeVisible();
  await expect(page.getByRole("link", { name: "Create this page" })).toHaveAttribute("href", `/wiki/${missing}/edit`);
});

test("a title typed in the address bar goes to its page's slug", async ({ page, request }) => {
  const slug = uniqueSlug("Red_wedding");
  await seedPage(request, slug, "It rained.");
  await page.goto(`/wiki/${encodeURIComponent(slug.replaceAll("_", " ").toLowerCase())}`);
  await expect(page).toHaveURL(new RegExp(`/wiki/${slug}$`));
  await expect(page.locator(".page-body")).toHaveText("It rained.");
});

test("what links here and wanted pages list the links between pages", async ({ page, request }) => {
  const missing = uniqueSlug("Summerhall");
  const first = uniqueSlug("Egg");
  const second = uniqueSlug("Dunk");
  await seedPage(request, first, `Tragedy at [[${missing}]].`);
  await seedPage(request, second, `Also [[${missing}]].`);

  await page.goto(`/wiki/${missing}/links-here`);
  await expect(page.locator(".page-list a")).toHaveText([first.replaceAll("_", " "), second.replaceAll("_", " ")].sort());

  await page.goto("/wanted-pages");
  const wanted = page.locator(".page-list li", { hasText: missing.replaceAll("_", " ") });
  await expect(wanted).toContainText("2 links");
  await expect(wanted.locator("a.new")).toHaveAttribute("href", `/wiki/${missing}/edit`);
});

test("a page whose title holds a colon and an apostrophe opens from its link", async ({ page, request }) => {
  const suffix = uniqueSlug("x").slice(2);
  const target = `House:_Ned's_${suffix}`;
  await seedPage(request, target, "Winter is coming.");
  const source = uniqueSlug("Houses");
  await seedPage(request, source, `See [[House: Ned's ${suffix}]].`);
  await page.goto(`/wiki/${source}`);
  await page.locator(".page-body a.wikilink").click();
  await expect(page.locator(".page-body")).toHaveText("Winter is coming.");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(`House: Ned's ${suffix}`);
});
