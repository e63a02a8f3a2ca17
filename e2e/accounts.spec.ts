import { expect, test } from "@playwright/test";
import { adminAccount, logIn, PASSWORD, registerEditor } from "./support/accounts";
import { seedPage, uniqueSlug, uniqueWord } from "./support/seed";

test("register, log out and log in again; the header shows who is logged in", async ({ page }) => {
  const name = `Sansa ${uniqueWord("")}`;
  await page.goto("/register");
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByTestId("who")).toHaveText(name);

  await page.getByRole("button", { name: "Log out" }).click();
  const logInLink = page.locator(".site-header").getByRole("link", { name: "Log in" });
  await expect(logInLink).toBeVisible();
  await expect(page.getByTestId("who")).toHaveCount(0);

  await logInLink.click();
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Password").fill("not the password");
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.locator(".account-form").getByRole("alert")).toHaveText("wrong name or password");
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByTestId("who")).toHaveText(name);
});

test("a reader sees no edit button, and the editor tells them to log in", async ({ page, request }) => {
  const slug = uniqueSlug("Kings_Landing");
  await seedPage(request, slug, "The capital.");
  await page.goto(`/wiki/${slug}`);
  await expect(page.locator(".page-tabs")).toBeVisible();
  await expect(page.locator(".page-tabs").getByRole("link", { name: "Edit" })).toHaveCount(0);
  await page.goto(`/wiki/${slug}/edit`);
  await expect(page.getByTestId("edit-notice")).toContainText("Log in");
  await expect(page.getByTestId("editor")).toHaveCount(0);
});

test("an editor can edit; after an admin protects the page the editor cannot, and both see why", async ({ browser, request }) => {
  const slug = uniqueSlug("Iron_Throne");
  await seedPage(request, slug, "Forged by Balerion.");
  const editorContext = await browser.newContext();
  const adminContext = await browser.newContext();
  const editor = await editorContext.newPage();
  const admin = await adminContext.newPage();
  await registerEditor(editor.request);
  await logIn(admin.request, adminAccount());

  await editor.goto(`/wiki/${slug}`);
  await expect(editor.locator(".page-tabs").getByRole("link", { name: "Edit" })).toBeVisible();

  await admin.goto(`/wiki/${slug}`);
  await admin.getByRole("button", { name: "Protect (admins only)" }).click();
  await expect(admin.getByTestId("protected-badge")).toBeVisible();
  await expect(admin.getByRole("button", { name: "Unprotect" })).toBeVisible();
  await expect(admin.locator(".page-tabs").getByRole("link", { name: "Edit" })).toBeVisible();

  await editor.reload();
  await expect(editor.getByTestId("protected-badge")).toBeVisible();
  await expect(editor.getByTestId("edit-notice")).toHaveText("This page is protected: only admins can edit it.");
  await expect(editor.locator(".page-tabs").getByRole("link", { name: "Edit" })).toHaveCount(0);
  await expect(editor.getByRole("button", { name: /Protect|Unprotect/u })).toHaveCount(0);
  await editor.goto(`/wiki/${slug}/edit`);
  await expect(editor.getByTestId("read-only-reason")).toContainText("This page is protected: only admins can edit it.");
  await expect(editor.locator(".cm-content")).toHaveAttribute("contenteditable", "false");

  // Changing protection is for admins only, whatever the client sends.
  const refused = await editor.request.put(`/api/pages/${slug}/protection`, { data: { protection: "none" } });
  expect(refused.status()).toBe(403);

  await admin.getByRole("button", { name: "Unprotect" }).click();
  await expect(admin.getByTestId("protected-badge")).toHaveCount(0);
  await editor.goto(`/wiki/${slug}`);
  await expect(editor.locator(".page-tabs").getByRole("link", { name: "Edit" })).toBeVisible();
  await editorContext.close();
  await adminContext.close();
});

test("the new page form maps a title to its slug and opens the editor", async ({ page }) => {
  await registerEditor(page.request);
  const word = uniqueWord("");
  await page.goto("/new");
  await page.getByLabel("Title").fill(`  the  lord of ${word} `);
  await page.getByRole("button", { name: "Create page" }).click();
  await expect(page).toHaveURL(new RegExp(`/wiki/The_lord_of_${word}/edit$`));
  await expect(page.getByRole("heading", { name: `The lord of ${word}` })).toBeVisible();
});
