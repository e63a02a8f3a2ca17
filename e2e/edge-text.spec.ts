import { expect, test } from "@playwright/test";
import { registerEditor } from "./support/accounts";
import { choosePop, editor } from "./support/editor";
import { LIVE_EDGES, WAITING_FOR_THE_EDGE } from "./support/live-edges";
import { seedPage, uniqueSlug } from "./support/seed";

/**
 * Issue 21, "the wiki's page view can use the nearest edge for its text when
 * the origin's copy is older": a reader is served a cached copy of a page
 * (here the copy a shared cache would keep, taken before an edit and served
 * again by the browser's route, as a CDN would), while an editor's edit has
 * reached the edge of the reader's PoP; the view shows the edge's newer text
 * and says where it came from.
 */
test.describe("a page view newer from the nearest edge", () => {
  test.fixme(!LIVE_EDGES, WAITING_FOR_THE_EDGE);
  test.describe.configure({ timeout: 60_000 });

  test("a stale cached copy of a page shows the nearest edge's newer text", async ({ browser, request, baseURL }) => {
    const slug = uniqueSlug("Maester_Aemon");
    await seedPage(request, slug, "Seeded text.");
    const stale = await request.get(`/wiki/${slug}`);
    expect(stale.status()).toBe(200);
    const staleBody = await stale.body();
    const headers = Object.fromEntries(Object.entries(stale.headers()).filter(([name]) => !["content-encoding", "content-length", "transfer-encoding"].includes(name)));
    const [edge] = (await (await request.get("/api/edges")).json()) as { pop: string }[];

    const editorContext = await browser.newContext();
    await choosePop(editorContext, baseURL!, edge!.pop);
    const writer = await editorContext.newPage();
    await registerEditor(writer.request, "Aemon");
    await editor.open(writer, slug);
    await expect(editor.connection(writer)).toHaveText(/^Connected to /u, { timeout: 15_000 });
    // Typed once the page's text is in the editor, so that it goes after it.
    await expect(editor.content(writer)).toContainText("Seeded text.", { timeout: 15_000 });
    await editor.type(writer, " [newer]");
    await expect(editor.saving(writer)).toHaveText(/^Saved/u, { timeout: 15_000 });

    // The copy is served by the browser's route (as a CDN would serve it), so
    // Chromium no longer knows the page came from this loopback host, and
    // asks before it lets it reach the edge's loopback port (Local Network
    // Access): granted, as a reader would when asked.
    const readerContext = await browser.newContext({ permissions: ["local-network-access"] });
    await choosePop(readerContext, baseURL!, edge!.pop);
    const reader = await readerContext.newPage();
    await reader.route(`**/wiki/${slug}`, (route) => route.fulfill({ status: 200, headers, body: staleBody }));
    await reader.goto(`/wiki/${slug}`);
    await expect(reader.getByTestId("edge-text")).toContainText(`the edge in ${edge!.pop}`, { timeout: 15_000 });
    const fromEdge = reader.locator('.page-body[data-edge="true"]');
    await expect(fromEdge).toContainText("[newer]");
    await expect(fromEdge).toContainText("Seeded text.");
    await editorContext.close();
    await readerContext.close();
  });
});
