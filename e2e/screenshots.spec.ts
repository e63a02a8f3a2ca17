import { mkdirSync } from "node:fs";
import path from "node:path";
import { type BrowserContext, expect, type Page, test } from "@playwright/test";
import { adminAccount, logIn, registerEditor } from "./support/accounts";
import { choosePop, editor, useEdges } from "./support/editor";
import { originUrl, serviceSecret } from "./support/env";
import { FakeEdgeHub, FakeReplica, loadFromOrigin } from "./support/fake-edge";
import { SeededPage, seedPage, uniqueSlug } from "./support/seed";

/**
 * The pictures in docs/screenshots/, taken only on request:
 *   WEIRWOOD_SCREENSHOTS=1 npx playwright test e2e/screenshots.spec.ts
 * (after `npm run build`). The editor ones use stand-in edges.
 */
const OUT = path.resolve("docs/screenshots");

test.describe("screenshots for the docs", () => {
  test.skip(process.env.WEIRWOOD_SCREENSHOTS !== "1", "set WEIRWOOD_SCREENSHOTS=1 to refresh docs/screenshots/");
  test.beforeAll(() => mkdirSync(OUT, { recursive: true }));
  test.use({ viewport: { width: 1200, height: 820 } });

  const suffix = uniqueSlug("x").slice(2, 6);
  const slug = `The_Red_Wedding_${suffix}`;
  const FIRST = [
    "The **Red Wedding** was the massacre at the [[Twins]] during the wedding feast of Edmure Tully.",
    "",
    "## Guests",
    "",
    "| House | Seat | Arrived |",
    "|:--|:--|--:|",
    "| Stark | [[Winterfell]] | 1st |",
    "| Tully | [[Riverrun]] | 2nd |",
    "| Frey | [[Twins|The Twins]] | host |",
    "",
    "> The band played music while the guests ate.",
    "",
  ].join("\n");
  const SECOND = FIRST.replace("The band played music while the guests ate.", "The band played *The Rains of Castamere*, and the doors were barred.").concat(
    "\nSee also [[Walder Frey]] and [[Guest right]].\n",
  );

  test("page view, history diff, phone and dark mode", async ({ page, request, browser }) => {
    await seedPage(request, "Winterfell", "Seat of House Stark.");
    await seedPage(request, "Twins", "The Frey castle on the Green Fork.");
    const seeded = new SeededPage(slug, request);
    await seeded.replace(FIRST, { pop: "us-east", authors: ["Arya", "Bran"], edits: 42 });
    await seeded.replace(SECOND, { pop: "eu-west", authors: ["Catelyn", "Robb", "Roose"], edits: 317 });

    const pops = [
      { pop: "us-east", replica: "us-east-a", url: "ws://127.0.0.1:9" },
      { pop: "eu-west", replica: "eu-west-a", url: "ws://127.0.0.1:9" },
    ];
    await useEdges(page.context(), () => pops);
    await logIn(page.request, adminAccount());
    await page.goto(`/wiki/${slug}`);
    await expect(page.locator(".page-body h2")).toBeVisible();
    await expect(page.getByTestId("pop-select")).toBeVisible();
    await page.screenshot({ path: path.join(OUT, "page-view.png") });

    await page.goto(`/wiki/${slug}/diff?from=1&to=2`);
    await expect(page.getByTestId("diff")).toBeVisible();
    await page.screenshot({ path: path.join(OUT, "history-diff.png") });

    await page.goto(`/wiki/${slug}/history`);
    await page.screenshot({ path: path.join(OUT, "history.png") });

    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, colorScheme: "dark", deviceScaleFactor: 2, isMobile: true });
    await useEdges(phone, () => pops);
    const phonePage = await phone.newPage();
    await phonePage.goto(`/wiki/${slug}`);
    await expect(phonePage.locator(".page-body h2")).toBeVisible();
    await phonePage.screenshot({ path: path.join(OUT, "page-view-phone-dark.png") });
    await phone.close();
  });

  test("the editor with two cursors and its status line", async ({ browser, baseURL }) => {
    const hub = new FakeEdgeHub();
    hub.load = loadFromOrigin(originUrl(), serviceSecret());
    const east = await new FakeReplica("us-east", "us-east-a", hub).start();
    const west = await new FakeReplica("eu-west", "eu-west-a", hub).start();
    const page = uniqueSlug("Battle_of_the_Bastards");
    const people = [
      { pop: "us-east", name: "Sansa", text: "# Battle of the Bastards\n\nJon leads the charge at [[Winterfell]].\n" },
      { pop: "eu-west", name: "Davos", text: "The knights of the Vale arrive late." },
    ];
    const sessions: { context: BrowserContext; tab: Page }[] = [];
    for (const person of people) {
      const context = await browser.newContext({ viewport: { width: 1200, height: 720 } });
      await useEdges(context, () => [east.endpoint, west.endpoint]);
      await choosePop(context, baseURL!, person.pop);
      const tab = await context.newPage();
      await registerEditor(tab.request, person.name);
      await editor.open(tab, page);
      sessions.push({ ...person, context, tab });
    }
    await editor.type(sessions[0]!.tab, people[0]!.text);
    await expect.poll(() => editor.text(sessions[1]!.tab)).toContain("Winterfell");
    await editor.type(sessions[1]!.tab, people[1]!.text);
    await expect.poll(() => editor.text(sessions[0]!.tab)).toContain("Vale");
    // Put Sansa's cursor mid-text so that both carets show apart.
    await sessions[0]!.tab.locator(".cm-line", { hasText: "Jon leads" }).click();
    await hub.flushTo(originUrl(), serviceSecret());
    const shown = sessions[1]!.tab;
    await expect(editor.cursorNames(shown)).toHaveCount(1);
    await expect(editor.saving(shown)).toHaveText(/Saved to the wiki at/u, { timeout: 10_000 });
    await shown.mouse.move(0, 0);
    await shown.screenshot({ path: path.join(OUT, "editor-two-cursors.png") });
    await shown.getByTestId("status-line").screenshot({ path: path.join(OUT, "status-line.png") });
    for (const session of sessions) await session.context.close();
    await east.stop();
    await west.stop();
  });

  test("the watchlist", async ({ page, request }) => {
    // Four seeds, each waiting for the origin's text refresh.
    test.setTimeout(60_000);
    const account = await registerEditor(page.request, "Sansa");
    // Seeded in her name, the pages are watched as if she had edited them (origin/watchlist.ts).
    const winterfell = await seedPage(request, `Winterfell_${suffix}`, "Seat of House Stark.", { authors: [account.name] });
    const eyrie = await seedPage(request, `The_Eyrie_${suffix}`, "The high seat of the Vale.", { authors: [account.name] });
    await eyrie.replace("The high seat of the Vale, above the Bloody Gate.", { pop: "eu-west", authors: ["Littlefinger"], edits: 12 });
    await winterfell.replace("Seat of House Stark, and of the King in the North.", { authors: ["Jon", "Davos"], edits: 31 });
    await page.goto("/watchlist");
    await expect(page.getByTestId("change")).toHaveCount(4);
    await expect(page.getByTestId("who")).toContainText(account.name);
    await page.screenshot({ path: path.join(OUT, "watchlist.png") });
  });

  test("recent changes, filtered and live", async ({ page, request }) => {
    test.setTimeout(60_000);
    const house = `Pyke_${suffix}`;
    await seedPage(request, `${house}_Hall`, "Salt and rock.", { authors: ["Theon"], edits: 9 });
    await seedPage(request, `${house}_Tower`, "The Sea Tower.", { authors: [adminAccount().name] });
    await seedPage(request, `${house}_Keep`, "What is dead may never die.", { pop: "eu-west", authors: ["Asha", "Victarion"], edits: 23 });
    await page.goto(`/recent-changes?prefix=${house.replace("_", "+")}&hideadmins=1&live=1`);
    await expect(page.getByTestId("change")).toHaveCount(2);
    await expect(page.getByTestId("live-status")).toContainText("Live · checked at");
    await page.screenshot({ path: path.join(OUT, "recent-changes.png") });
  });

  test("moving a page, its old name, and the deletion log", async ({ page, request }) => {
    test.setTimeout(60_000);
    await logIn(page.request, adminAccount());
    const from = `Kingsguard_${suffix}`;
    await seedPage(request, from, "The seven sworn swords of the king. See [[The Red Wedding]].", { authors: ["Barristan"] });
    await page.goto(`/wiki/${from}`);
    await page.getByTestId("move-page").click();
    await page.getByLabel("New name").fill(`${from}_of_the_Iron_Throne`);
    await page.getByLabel("Reason to move").fill("its full name");
    await page.screenshot({ path: path.join(OUT, "move-form.png") });
    await page.getByRole("button", { name: "Move page" }).click();
    await expect(page).toHaveURL(new RegExp(`/wiki/${from}_of_the_Iron_Throne$`, "u"));
    await page.goto(`/wiki/${from}`);
    await expect(page.getByTestId("redirected-from")).toBeVisible();
    await page.screenshot({ path: path.join(OUT, "moved-page-old-name.png") });

    const doomed = `Harrenhal_${suffix}`;
    await seedPage(request, doomed, "Cursed castle.");
    await page.goto(`/wiki/${doomed}`);
    await page.getByTestId("delete-page").click();
    await page.getByLabel("Reason to delete").fill("vandalism");
    await page.getByRole("button", { name: "Delete page" }).click();
    await expect(page.getByTestId("deleted-page")).toBeVisible();
    await page.screenshot({ path: path.join(OUT, "deleted-page.png") });
    await page.goto("/admin/deletions");
    await page.screenshot({ path: path.join(OUT, "deletion-log.png") });
  });
});
