import { expect, test } from "@playwright/test";
import { seedPage, uniqueWord } from "./support/seed";

/** Issue 22: #REDIRECT [[Target]] pages, followed one step by the page view. */

test("a link to a redirect lands on its target with a note; double redirects and missing targets are shown, not followed", async ({ page, request }) => {
  // Six seeds, each waiting for the origin's text refresh.
  test.setTimeout(90_000);
  const id = uniqueWord("");
  const title = (name: string) => `${name} ${id}`;
  const slug = (name: string) => `${name}_${id}`;
  await seedPage(request, slug("Jaime"), "Ser Jaime Lannister, of the Kingsguard.");
  await seedPage(request, slug("Kingslayer"), `#REDIRECT [[${title("Jaime")}]]`);
  await seedPage(request, slug("Lord_Commander"), `#redirect [[${title("Kingslayer")}]]`);
  await seedPage(request, slug("Young_Wolf"), `#REDIRECT [[${title("Robb")}]]`);
  await seedPage(request, slug("Oathkeeper"), `A Valyrian sword, given by [[${title("Kingslayer")}]].`);

  // A link to the redirect goes to it, and thereby to the target.
  await page.goto(`/wiki/${slug("Oathkeeper")}`);
  await page.locator(".page-body").getByRole("link", { name: title("Kingslayer") }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(title("Jaime"));
  await expect(page.locator(".page-body")).toContainText("of the Kingsguard");
  await expect(page.getByTestId("redirected-from")).toHaveText(`(Redirected from ${title("Kingslayer")})`);
  // The address names the page shown, as MediaWiki's does.
  await expect(page).toHaveURL(new RegExp(`/wiki/${slug("Jaime")}$`, "u"));

  // The note leads to the redirect itself, to read or edit it.
  await page.getByTestId("redirected-from").getByRole("link").click();
  await expect(page).toHaveURL(new RegExp(`/wiki/${slug("Kingslayer")}\\?redirect=no$`, "u"));
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(title("Kingslayer"));
  await expect(page.getByTestId("redirect-notice")).toContainText(`This page is a redirect to ${title("Jaime")}.`);

  // A double redirect is shown, not followed.
  await page.goto(`/wiki/${slug("Lord_Commander")}`);
  await expect(page).toHaveURL(new RegExp(`/wiki/${slug("Lord_Commander")}$`, "u"));
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(title("Lord Commander"));
  await expect(page.getByTestId("redirect-notice")).toContainText(`This is a double redirect to ${title("Kingslayer")}, which itself redirects to ${title("Jaime")}`);
  await expect(page.getByTestId("redirected-from")).toHaveCount(0);

  // A redirect to a missing page shows itself, with a red link to create the target.
  await page.goto(`/wiki/${slug("Young_Wolf")}`);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(title("Young Wolf"));
  const red = page.getByTestId("redirect-notice").getByRole("link", { name: title("Robb") });
  await expect(red).toHaveClass(/\bnew\b/u);
  await expect(red).toHaveAttribute("href", `/wiki/${slug("Robb")}/edit`);
});
