import { type APIRequestContext, expect, test } from "@playwright/test";
import { registerEditor } from "./support/accounts";
import { SeededPage, uniqueSlug } from "./support/seed";

async function seedThreeRevisions(request: APIRequestContext): Promise<SeededPage> {
  const page = new SeededPage(uniqueSlug("Twins"), request);
  await page.replace("Walder Frey hosts a wedding.\nThe band plays music.\n", { pop: "us-east", authors: ["Walder"], edits: 4 });
  await page.replace("Walder Frey hosts a wedding.\nThe band plays The Rains of Castamere.\n", {
    pop: "eu-west",
    authors: ["Roose", "Walder"],
    edits: 17,
  });
  await page.edit((body) => body.insert(body.length, "Nobody leaves.\n"), { pop: "us-east", authors: ["Catelyn"], edits: 2 });
  return page;
}

test("history lists revisions newest first with time, authors, edit count and PoP", async ({ page, request }) => {
  const seeded = await seedThreeRevisions(request);
  await page.goto(`/wiki/${seeded.slug}/history`);
  const rows = page.getByTestId("revision-row");
  await expect(rows).toHaveCount(3);
  await expect(rows.nth(0)).toContainText("#3");
  await expect(rows.nth(0)).toContainText("Catelyn");
  await expect(rows.nth(0)).toContainText("us-east");
  await expect(rows.nth(1)).toContainText("Roose, Walder");
  await expect(rows.nth(1)).toContainText("17");
  await expect(rows.nth(1)).toContainText("eu-west");
  await expect(rows.nth(2)).toContainText("#1");
  await expect(rows.nth(0).locator("time")).toHaveText(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/u);
});

test("the diff of two chosen revisions shows the words that changed", async ({ page, request }) => {
  const seeded = await seedThreeRevisions(request);
  await page.goto(`/wiki/${seeded.slug}/history`);
  await page.getByLabel("Compare from revision 1").check();
  await page.getByLabel("Compare to revision 3").check();
  await page.getByRole("button", { name: "Compare selected revisions" }).click();
  await expect(page).toHaveURL(new RegExp(`/wiki/${seeded.slug}/diff\\?`));
  expect(Object.fromEntries(new URL(page.url()).searchParams)).toEqual({ from: "1", to: "3" });

  const diff = page.getByTestId("diff");
  await expect(diff.locator("del")).toContainText(["music"]);
  await expect(diff.locator("ins").filter({ hasText: "Rains of Castamere" })).toHaveCount(1);
  await expect(diff.locator("ins").filter({ hasText: "Nobody leaves." })).toHaveCount(1);
  await expect(diff.locator(".diff-same")).toContainText("Walder Frey hosts a wedding.");
  await expect(page.locator(".diff-summary")).toContainText("+2 lines");
});

test("an old revision can be read, and an editor is offered to restore it through the editor", async ({ page, request }) => {
  const seeded = await seedThreeRevisions(request);
  await page.goto(`/wiki/${seeded.slug}/revisions/1`);
  await expect(page.getByTestId("revision-banner")).toContainText("An old revision (1 of 3)");
  await expect(page.locator(".page-body")).toContainText("The band plays music.");
  // A reader is not offered to restore.
  await expect(page.getByTestId("restore")).toHaveCount(0);

  await registerEditor(page.request);
  await page.reload();
  await expect(page.getByTestId("restore")).toHaveAttribute("href", `/wiki/${seeded.slug}/edit?restore=1`);
});
