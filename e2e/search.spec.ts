import { expect, test } from "@playwright/test";
import { seedPage, uniqueSlug, uniqueWord } from "./support/seed";

test("search finds a page by a word in its text and highlights it", async ({ page, request }) => {
  const word = uniqueWord("direwolf");
  const slug = uniqueSlug("Ghost");
  await seedPage(request, slug, `Jon's ${word} is white and silent. <b>bold claim</b> & more.`);

  await page.goto("/");
  await page.getByRole("searchbox", { name: "Search the wiki" }).fill(word);
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(new RegExp(`/search\\?q=${word}$`));

  const result = page.getByTestId("search-result").filter({ hasText: slug.replaceAll("_", " ") });
  // Search reads its own copy of each page, taken within about a second of
  // the page's text (origin/search-refresh.ts): a results page rendered in
  // between lists nothing yet, so ask again, as a reader would.
  await expect(async () => {
    await page.reload();
    await expect(result).toHaveCount(1, { timeout: 1000 });
  }).toPass({ timeout: 15_000 });
  await expect(result.locator("mark")).toHaveText([word]);
  // The page's own markup is text in a snippet, never HTML.
  await expect(result.locator(".snippet")).toContainText("<b>bold claim</b> & more");
  await expect(result.locator(".snippet b")).toHaveCount(0);
  await result.getByRole("link").click();
  await expect(page).toHaveURL(new RegExp(`/wiki/${slug}$`));
});

test("a search without results says so and offers to create the page", async ({ page }) => {
  const word = uniqueWord("nothing");
  await page.goto(`/search?q=${word}`);
  await expect(page.getByTestId("no-results")).toBeVisible();
  const create = page.getByRole("link", { name: "Create it" });
  await expect(create).toHaveAttribute("href", `/wiki/${word[0]!.toUpperCase()}${word.slice(1)}/edit`);
});
