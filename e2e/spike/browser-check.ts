import type { BrowserEditorReport } from "./browser-editors";

/** What the check reads of the browsers: BrowserEditors, or anything that answers the same. */
export interface BrowserTexts {
  texts(): Promise<{ index: number; slug: string; text: string }[]>;
  reports(): BrowserEditorReport[];
}

export type ComparedBrowser = BrowserEditorReport & { textMatchesOrigin: boolean };

/**
 * Each browser's editor against the origin's converged text, polled for
 * `timeoutMs` (the last update may still be on its way), then judged: every
 * browser that said its edits were saved must show exactly the origin's
 * text. One still waiting for its acks (write-through far behind) rightly
 * shows text the origin lacks; failuresOf counts it as unsaved instead.
 */
export async function compareBrowsers(
  browsers: BrowserTexts | undefined,
  originTexts: ReadonlyMap<string, string>,
  timeoutMs = 15_000,
  pollMs = 500,
): Promise<{ browserEditors: ComparedBrowser[]; browsersConverged: boolean }> {
  if (!browsers) return { browserEditors: [], browsersConverged: true };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const texts = await browsers.texts();
    const matchOf = new Map(texts.map((entry) => [entry.index, entry.text === originTexts.get(entry.slug)]));
    if ([...matchOf.values()].every(Boolean) || Date.now() > deadline) {
      const browserEditors = browsers.reports().map((report) => ({ ...report, textMatchesOrigin: matchOf.get(report.index) ?? false }));
      return { browserEditors, browsersConverged: browserEditors.every((browser) => browser.textMatchesOrigin || !browser.saved) };
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
