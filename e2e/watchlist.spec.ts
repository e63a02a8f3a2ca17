import { expect, type Page, test } from "@playwright/test";
import { registerEditor } from "./support/accounts";
import { editor } from "./support/editor";
import { LIVE_EDGES, WAITING_FOR_THE_EDGE } from "./support/live-edges";
import { seedPage, uniqueSlug } from "./support/seed";

/** Issue 22: the watchlist and a user's contributions, in the browser. */

const titleOf = (slug: string) => slug.replaceAll("_", " ");

/** Reloads `path` until its list of changes holds `slug` (history follows the origin's text refresh). */
async function changeListed(page: Page, path: string, slug: string, revision: number): Promise<void> {
  await expect(async () => {
    await page.goto(path);
    await expect(page.getByTestId("change").filter({ hasText: titleOf(slug) })).toContainText(`revision ${revision}`, { timeout: 1_000 });
  }).toPass({ timeout: 20_000 });
}

test.describe("through real edges", () => {
  test.fixme(!LIVE_EDGES, WAITING_FOR_THE_EDGE);
  test.describe.configure({ timeout: 60_000 });

  test("a user edits a page, then finds it on their watchlist and in their contributions", async ({ page }) => {
    const account = await registerEditor(page.request, "Samwell");
    const slug = uniqueSlug("Citadel");
    await editor.open(page, slug);
    await editor.type(page, "The maesters forge their chains here.");
    await expect(editor.saving(page)).toHaveText(/^Saved to the wiki at \d\d:\d\d:\d\d$/u, { timeout: 20_000 });

    // Editing watched the page: it is on the watchlist, reached from the header.
    await changeListed(page, "/watchlist", slug, 1);
    await page.goto(`/wiki/${slug}`);
    await expect(page.getByTestId("watch-star")).toHaveText("★ Watching");
    await page.getByRole("navigation", { name: "Wiki" }).getByRole("link", { name: "Watchlist" }).click();
    await expect(page).toHaveURL(/\/watchlist$/u);
    await expect(page.getByTestId("change").filter({ hasText: titleOf(slug) })).toContainText(account.name);

    // The header's name leads to the contributions, and so does the author's name in the history.
    await page.getByTestId("who").getByRole("link", { name: account.name }).click();
    await expect(page).toHaveURL(new RegExp(`/contributions/${encodeURIComponent(account.name)}$`, "u"));
    await expect(page.getByRole("heading", { level: 1 })).toHaveText(`Contributions of ${account.name}`);
    const contribution = page.getByTestId("change");
    await expect(contribution).toHaveCount(1);
    await expect(contribution).toContainText(titleOf(slug));
    await contribution.getByRole("link", { name: "revision 1" }).click();
    await expect(page.getByTestId("revision-banner")).toContainText("The current revision (1 of 1)");
    const api = await page.request.get(`/api/users/${encodeURIComponent(account.name)}/contributions`);
    expect(api.status(), await api.text()).toBe(200);
    expect(((await api.json()) as { changes: { slug: string; revision: number }[] }).changes).toEqual([expect.objectContaining({ slug, revision: 1 })]);
    await page.goto(`/wiki/${slug}/history`);
    await page.getByTestId("revision-row").getByRole("link", { name: account.name }).click();
    await expect(page.getByRole("heading", { level: 1 })).toHaveText(`Contributions of ${account.name}`);
  });
});

test("the star watches and unwatches a page, and is never part of the page's shared HTML", async ({ page, request }) => {
  const slug = uniqueSlug("Eyrie");
  await seedPage(request, slug, "The Vale's high seat.", { authors: ["Lysa"] });
  await page.goto(`/wiki/${slug}`);
  await expect(page.locator(".page-body")).toContainText("high seat");
  // An anonymous reader has no star.
  await expect(page.getByRole("link", { name: "Log in to edit" })).toBeVisible();
  await expect(page.getByTestId("watch-star")).toHaveCount(0);

  await registerEditor(page.request, "Sansa");
  await page.reload();
  const star = page.getByTestId("watch-star");
  await expect(star).toHaveText("☆ Watch");
  await expect(star).toHaveAttribute("aria-pressed", "false");
  await star.click();
  await expect(star).toHaveText("★ Watching");
  await expect(star).toHaveAttribute("aria-pressed", "true");
  await page.reload();
  await expect(star).toHaveText("★ Watching");
  await changeListed(page, "/watchlist", slug, 1);

  // The page's HTML is the same for everyone: the star's state is not in it.
  const html = await (await page.request.get(`/wiki/${slug}`)).text();
  expect(html).not.toContain("watch-star");
  expect(html).not.toContain("Watching");

  await page.goto(`/wiki/${slug}`);
  await star.click();
  await expect(star).toHaveText("☆ Watch");
  await page.reload();
  await expect(star).toHaveText("☆ Watch");
  await page.goto("/watchlist");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Watchlist");
  await expect(page.getByTestId("change").filter({ hasText: titleOf(slug) })).toHaveCount(0);
});
