import { expect, test } from "@playwright/test";
import { adminAccount, logIn, registerEditor } from "./support/accounts";
import { editor } from "./support/editor";
import { LIVE_EDGES, WAITING_FOR_THE_EDGE } from "./support/live-edges";
import { seedPage, uniqueSlug, uniqueWord } from "./support/seed";

/**
 * Issue 18 item 2 in the browser, through the real edges of the server
 * under test: an admin blocks an editor on /admin/blocks; the editor's open
 * editor stops saving and says why; lifted, the editor writes again.
 */
test.describe("blocking a user", () => {
  test.fixme(!LIVE_EDGES, WAITING_FOR_THE_EDGE);
  test.describe.configure({ timeout: 60_000 });

  test("an admin blocks an editor: the open editor is closed and told why; unblocked, it saves again", async ({ browser, request }) => {
    const slug = uniqueSlug("Castle_Black");
    await seedPage(request, slug, "The Wall.");
    const editorContext = await browser.newContext();
    const adminContext = await browser.newContext();
    const page = await editorContext.newPage();
    const admin = await adminContext.newPage();
    const account = await registerEditor(page.request, "Janos");
    await logIn(admin.request, adminAccount());
    const reason = `mutiny ${uniqueWord("")}`;

    await editor.open(page, slug);
    await expect(editor.connection(page)).toHaveText(/^Connected to /u, { timeout: 15_000 });
    // "Connected" comes before the sync: typed sooner, the text would be a concurrent insert at the start.
    await expect(editor.content(page)).toContainText("The Wall.", { timeout: 15_000 });
    await editor.type(page, " Before.");
    await expect(editor.saving(page)).toHaveText(/^Saved/u, { timeout: 15_000 });

    await admin.goto("/admin/blocks");
    await admin.getByLabel("Account name").fill(account.name);
    await admin.getByLabel("Reason (shown to the blocked person)").fill(reason);
    await admin.getByLabel("Duration").selectOption({ label: "No end" });
    await admin.getByRole("button", { name: "Block", exact: true }).click();
    await expect(admin.getByTestId(`block-${account.name}`)).toContainText(reason);

    // Every edge closes the blocked user's socket within EDGE_BLOCK_RECHECK_MS, at once when the broker carries the notice.
    await expect(editor.connection(page)).toHaveText(`Disconnected: you can no longer edit: blocked by an admin with no end: ${reason}`, { timeout: 15_000 });
    // No new token, and the edit page says why instead of opening an editor.
    const refused = await page.request.post("/api/auth/token", { data: {} });
    expect(refused.status()).toBe(403);
    expect(((await refused.json()) as { message: string }).message).toContain(reason);
    await page.goto(`/wiki/${slug}/edit`);
    await expect(page.getByTestId("edit-notice")).toHaveText(`You cannot edit: your account is blocked by an admin with no end date: ${reason}. You can still read the wiki.`);
    await expect(editor.content(page)).toHaveCount(0);

    await admin.getByRole("button", { name: `Unblock ${account.name}` }).click();
    await expect(admin.getByTestId(`block-${account.name}`)).toHaveCount(0);
    await editor.open(page, slug);
    await expect(editor.connection(page)).toHaveText(/^Connected to /u, { timeout: 15_000 });
    await editor.type(page, " After.");
    await expect(editor.saving(page)).toHaveText(/^Saved/u, { timeout: 15_000 });
    expect(await editor.text(page)).toContain("After.");

    // Only admins see the page.
    await page.goto("/admin/blocks");
    await expect(page.getByTestId("forbidden")).toBeVisible();
    await editorContext.close();
    await adminContext.close();
  });
});
