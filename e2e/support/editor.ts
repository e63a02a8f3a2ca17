import { type BrowserContext, expect, type Page } from "@playwright/test";

/** What the editor page shows, read the way a person reads it. */
export const editor = {
  content: (page: Page) => page.locator(".editor-source .cm-content"),
  connection: (page: Page) => page.getByTestId("status-connection"),
  saving: (page: Page) => page.getByTestId("status-saving"),
  preview: (page: Page) => page.locator(".editor-preview"),
  /** The names shown at the others' cursors (y-codemirror.next). */
  cursorNames: (page: Page) => page.locator(".cm-ySelectionInfo"),

  async open(page: Page, slug: string): Promise<void> {
    await page.goto(`/wiki/${slug}/edit`);
    // The editor mounts once the page's scripts ran: on a busy CI machine that took over 7 s.
    await expect(editor.content(page)).toBeVisible({ timeout: 20_000 });
  },

  /** Types at the end of the text, as a person would (one edit per key). */
  async type(page: Page, text: string): Promise<void> {
    await editor.content(page).click();
    await page.keyboard.press("Control+End");
    await page.keyboard.type(text);
  },

  async text(page: Page): Promise<string> {
    // Without the others' cursor widgets, which hold their names.
    return editor.content(page).evaluate((content) => {
      const copy = content.cloneNode(true) as HTMLElement;
      for (const widget of copy.querySelectorAll(".cm-ySelectionCaret")) widget.remove();
      return [...copy.querySelectorAll(".cm-line")].map((line) => line.textContent ?? "").join("\n");
    });
  },
};

/** Makes GET /api/edges answer `edges` in this context (stand-in edges). */
export async function useEdges(context: BrowserContext, edges: () => unknown[]): Promise<void> {
  await context.route("**/api/edges", (route) => route.fulfill({ json: edges() }));
}

/** Chooses the PoP as the header's selector does (a cookie). */
export async function choosePop(context: BrowserContext, baseURL: string, pop: string): Promise<void> {
  await context.addCookies([{ name: "weirwood_pop", value: pop, url: baseURL }]);
}
