import { expect, test } from "@playwright/test";
import { seedPage, uniqueSlug } from "./support/seed";

declare global {
  interface Window {
    __pwned?: string;
  }
}

const TRAPS = [
  "# Trap",
  "<script>window.__pwned = 'script'; alert('script')</script>",
  '<img src="/no-such-image.png" onerror="window.__pwned = \'img\'; alert(\'img\')">',
  "[markdown link](javascript:window.__pwned='markdown-link';alert('markdown-link'))",
  '<a href="javascript:window.__pwned=\'html-link\';alert(\'html-link\')">html link</a>',
  '<a href="JaVaScRiPt&colon;alert(\'entity-link\')">entity link</a>',
  '<svg onload="window.__pwned = \'svg\'; alert(\'svg\')"><circle r="4"/></svg>',
  '<p style="position:fixed;inset:0" onmouseover="window.__pwned = \'hover\'; alert(\'hover\')">hover here</p>',
  '<iframe src="javascript:alert(\'iframe\')"></iframe>',
  '<details open ontoggle="alert(\'toggle\')"><summary>details</summary>inside</details>',
].join("\n\n");

test("a page holding <script>, <img onerror> and javascript: links renders inert", async ({ page, request }) => {
  const slug = uniqueSlug("Trap");
  await seedPage(request, slug, TRAPS);
  const dialogs: string[] = [];
  page.on("dialog", (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });

  await page.goto(`/wiki/${slug}`);
  const body = page.locator(".page-body");
  await expect(body.getByRole("heading", { name: "Trap" })).toBeVisible();
  // The broken image has been tried (and failed) before we look.
  await page.waitForLoadState("load");
  await expect(body.locator("img")).toHaveCount(1);

  await expect(body.locator("script, svg, iframe, object, embed, style")).toHaveCount(0);
  const dangerous = await body.evaluate((root) =>
    [...root.querySelectorAll("*")].flatMap((element) =>
      [...element.attributes]
        .filter(
          (attribute) =>
            attribute.name.startsWith("on") ||
            attribute.name === "style" ||
            /^\s*(javascript|data|vbscript):/iu.test(attribute.value),
        )
        .map((attribute) => `${element.tagName} ${attribute.name}=${attribute.value}`),
    ),
  );
  expect(dangerous).toEqual([]);

  // Every link a reader could click, clicked: none runs anything.
  for (const name of ["html link", "entity link"]) await body.getByText(name).click();
  await body.getByText("hover here").hover();
  await body.getByText("details", { exact: true }).click();
  await expect(body).toContainText("[markdown link](javascript:");

  expect(await page.evaluate(() => window.__pwned)).toBeUndefined();
  expect(dialogs).toEqual([]);
  await expect(page).toHaveURL(new RegExp(`/wiki/${slug}$`));
});
