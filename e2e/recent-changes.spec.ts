import { expect, test } from "@playwright/test";
import { adminAccount, logIn, registerEditor } from "./support/accounts";
import { seedPage, uniqueSlug } from "./support/seed";

/** Issue 22: recent changes' filters, kept in the URL, and live mode. */

const titleOf = (slug: string) => slug.replaceAll("_", " ");

test("filters keep to the URL, and live mode shows another user's change without a reload", async ({ page, request }) => {
  // Six seeds, each waiting for the origin's text refresh.
  test.setTimeout(120_000);
  const house = uniqueSlug("Pyke");
  const admin = adminAccount().name;
  await seedPage(request, `${house}_Hall`, "Salt and rock.", { authors: ["Theon"] });
  await seedPage(request, `${house}_Tower`, "The admin's own tower.", { authors: [admin] });
  await seedPage(request, uniqueSlug("Winterfell"), "Elsewhere.", { authors: ["Theon"] });

  await page.goto("/recent-changes");
  const filters = page.getByRole("form", { name: "Filter recent changes" });
  // Typed as a title: lower case, a space for the underscore.
  await filters.getByLabel("Page names starting with").fill(titleOf(house).toLowerCase());
  await filters.getByLabel("Hide admins' changes").check();
  await filters.getByRole("button", { name: "Show" }).click();
  await expect(page).toHaveURL(/[?&]hideadmins=1(&|$)/u);
  await expect(page).toHaveURL(new RegExp(`[?&]prefix=${encodeURIComponent(titleOf(house).toLowerCase()).replaceAll("%20", "\\+")}(&|$)`, "u"));
  const changes = page.getByTestId("change");
  await expect(changes).toHaveCount(1);
  await expect(changes).toContainText(titleOf(`${house}_Hall`));

  // Live: the URL says so; the page is not loaded again from here on.
  await filters.getByLabel("Live").check();
  await expect(page).toHaveURL(/[?&]live=1(&|$)/u);
  await expect(page.getByTestId("live-status")).toContainText("Live · checked at");
  await page.evaluate(() => {
    (window as unknown as { stillThisPage: boolean }).stillThisPage = true;
  });
  // Another user's change, and one the filters hide, written as an edge writes them.
  await seedPage(request, `${house}_Armory`, "The admin again.", { authors: [admin] });
  await seedPage(request, `${house}_Keep`, "Asha's keep.", { authors: ["Asha"] });
  await expect(changes.first()).toContainText(titleOf(`${house}_Keep`), { timeout: 15_000 });
  await expect(changes).toHaveCount(2);
  await expect(changes.filter({ hasText: titleOf(`${house}_Armory`) })).toHaveCount(0);
  expect(await page.evaluate(() => (window as unknown as { stillThisPage?: boolean }).stillThisPage)).toBe(true);

  // A reload keeps every filter and live mode: they are the URL.
  await page.reload();
  await expect(filters.getByLabel("Page names starting with")).toHaveValue(titleOf(house).toLowerCase());
  await expect(filters.getByLabel("Hide admins' changes")).toBeChecked();
  await expect(filters.getByLabel("Live")).toBeChecked();
  await expect(changes).toHaveCount(2);

  // By user (Theon has no account: the name as revisions carry it): his change under the prefix, then the admin's once they show.
  await filters.getByLabel("By user").fill("Theon");
  await filters.getByRole("button", { name: "Show" }).click();
  await expect(page).toHaveURL(/[?&]user=Theon(&|$)/u);
  await expect(changes).toHaveCount(1);
  await expect(changes).toContainText(titleOf(`${house}_Hall`));
  // An account's name in any case.
  await filters.getByLabel("By user").fill(admin.toUpperCase());
  await filters.getByLabel("Hide admins' changes").uncheck();
  await filters.getByRole("button", { name: "Show" }).click();
  await expect(changes).toHaveCount(2);
  await expect(changes.first()).toContainText(titleOf(`${house}_Armory`));

  // A bot's own change, hidden by its box: an admin marks the account as a bot (PUT /api/users/:name/bot).
  const bot = await registerEditor(request, "Bot");
  await logIn(request, adminAccount());
  const marked = await request.put(`/api/users/${encodeURIComponent(bot.name)}/bot`, { data: { bot: true } });
  expect(marked.status(), await marked.text()).toBe(200);
  await seedPage(request, `${house}_Dock`, "Counted by a machine.", { authors: [bot.name] });
  await page.goto(`/recent-changes?prefix=${house}`);
  await expect(changes.first()).toContainText(titleOf(`${house}_Dock`));
  await filters.getByLabel("Hide bots' changes").check();
  await filters.getByRole("button", { name: "Show" }).click();
  await expect(page).toHaveURL(/[?&]hidebots=1(&|$)/u);
  await expect(changes.first()).toContainText(titleOf(`${house}_Keep`));
  await expect(changes.filter({ hasText: titleOf(`${house}_Dock`) })).toHaveCount(0);
});
