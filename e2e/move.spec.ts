import { expect, test } from "@playwright/test";
import { registerEditor } from "./support/accounts";
import { editor } from "./support/editor";
import { LIVE_EDGES, WAITING_FOR_THE_EDGE } from "./support/live-edges";
import { seedPage, uniqueSlug } from "./support/seed";

/**
 * Issue 22, "Move (rename) a page", in the browser through the real edges of
 * the server under test: two people type in a page while one of them moves
 * it from its view. Both editors follow the move by themselves (the edge
 * closes the old name with 4411 naming the new one, and the editor
 * reconnects its document there), keep typing, and everything both typed,
 * before and after, is the page's text under its new name; the old name
 * shows the page with "(Redirected from ...)".
 */
test.describe("moving a page", () => {
  test.fixme(!LIVE_EDGES, WAITING_FOR_THE_EDGE);
  test.describe.configure({ timeout: 90_000 });

  test("a page moved while two people type in it keeps all their text under the new name, with a redirect at the old", async ({ browser, request }) => {
    const from = uniqueSlug("Eyrie");
    const to = `${from}_castle`;
    await seedPage(request, from, "High seat.");
    const contexts = [await browser.newContext(), await browser.newContext()];
    const [lysa, robin] = await Promise.all(contexts.map((context) => context.newPage()));
    await registerEditor(lysa!.request, "Lysa");
    await registerEditor(robin!.request, "Robin");

    for (const page of [lysa!, robin!]) {
      await editor.open(page, from);
      await expect(editor.connection(page)).toHaveText(/^Connected to /u, { timeout: 15_000 });
    }
    await editor.type(lysa!, " [lysa before]");
    await editor.type(robin!, " [robin before]");

    // Lysa moves it from the page's view, in another tab.
    const mover = await contexts[0]!.newPage();
    await mover.goto(`/wiki/${from}`);
    await mover.getByTestId("move-page").click();
    await mover.getByLabel("New name").fill(to);
    await mover.getByLabel("Reason to move").fill("its full name");
    await mover.getByRole("button", { name: "Move page" }).click();
    await expect(mover).toHaveURL(new RegExp(`/wiki/${to}$`, "u"), { timeout: 15_000 });

    // Both editors follow: the notice, the address, connected again.
    for (const page of [lysa!, robin!]) {
      await expect(page.getByTestId("editor-notice")).toContainText("This page was moved to", { timeout: 15_000 });
      await expect(page).toHaveURL(new RegExp(`/wiki/${to}/edit$`, "u"));
      await expect(editor.connection(page)).toHaveText(/^Connected to /u, { timeout: 15_000 });
    }
    await editor.type(lysa!, " [lysa after]");
    await editor.type(robin!, " [robin after]");
    for (const page of [lysa!, robin!]) await expect(editor.saving(page)).toHaveText(/^Saved/u, { timeout: 20_000 });

    const markers = ["High seat.", "[lysa before]", "[robin before]", "[lysa after]", "[robin after]"];
    // Each marker exactly once (a marker missing or doubled counts it).
    const counts = async () => {
      const text = ((await (await request.get(`/api/pages/${to}`)).json()) as { text?: string }).text ?? "";
      return markers.map((marker) => text.split(marker).length - 1);
    };
    await expect.poll(counts, { timeout: 20_000 }).toEqual(markers.map(() => 1));
    const old = await request.get(`/api/pages/${from}`, { maxRedirects: 0 });
    expect(old.status()).toBe(301);

    // The old name: the page, in place, with where it came from.
    await mover.goto(`/wiki/${from}`);
    await expect(mover.getByTestId("redirected-from")).toBeVisible();
    await expect(mover.locator(".page-body")).toContainText("[robin after]");
    for (const context of contexts) await context.close();
  });
});
