import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { type Browser, type BrowserContext, chromium, type Page } from "@playwright/test";
import type { DurabilityLevel } from "../../protocol/messages";

/**
 * Real people in the spike: Chromium pages that log in, open a hot page's
 * editor through the wiki's own UI (CodeMirror over the browser provider,
 * connected to an edge of their PoP), and type while the protocol-level
 * crowd types. Each browser edit is a whole marker such as `[sb2n14]`
 * (browser 2's 14th), inserted as one input so that a co-editor's insert
 * can never split it, and counted as acknowledged once the page says its
 * edits are saved at the edge.
 */
export interface BrowserEditorsOptions {
  originUrl: string;
  /** Browser i edits pages[i % pages.length] through PoP pops[i % pops.length]. */
  pages: readonly string[];
  pops: readonly string[];
  count: number;
  /** Accounts to log in as (registered beforehand), one per browser. */
  accounts: readonly { name: string; password: string }[];
  markerTag: string;
  /** Milliseconds between one browser's edits. */
  editIntervalMs: number;
}

export interface BrowserEditorReport {
  index: number;
  slug: string;
  pop: string;
  /** What the status line said once connected ("Connected to us-east · replica us-east-a"). */
  connectedTo: string;
  typed: number;
  /** Whether the page said "Saved" for every edit by the end. */
  saved: boolean;
  /** What it said then ("Saved at the edge · in the PoP's log"), and the durability that names. */
  savedAs?: string;
  savedLevel?: DurabilityLevel;
  /** Milliseconds from opening the editor to its first "Connected". */
  openMs: number;
}

/**
 * The durability the wiki's status line names (components/editor/status-text.ts):
 * "Saved to the wiki at …" is the origin, "… in the PoP's log" the PoP, "Saved at the edge" the edge.
 */
export function savedLevel(text: string): DurabilityLevel | undefined {
  if (/^Saved to the wiki/u.test(text)) return "origin";
  if (/^Saved at the edge · in the PoP's log/u.test(text)) return "pop";
  if (/^Saved at the edge/u.test(text)) return "edge";
  return undefined;
}

const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  // Many pages typing at once in one headless browser: none is "in the background".
  "--disable-background-timer-throttling",
  "--disable-renderer-backgrounding",
  "--disable-backgrounding-occluded-windows",
];

export function chromiumPath(): string | undefined {
  return process.env.CHROMIUM_PATH ?? (existsSync("/usr/bin/chromium") ? "/usr/bin/chromium" : undefined);
}

export async function launchChromium(marker?: string): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath(), args: marker ? [...CHROMIUM_ARGS, `--weirwood-spike=${marker}`] : CHROMIUM_ARGS });
}

/**
 * The profile folder of the Chromium started with `marker`: every process
 * of that browser (renderers, GPU, network) carries it on its command line,
 * while an unknown switch such as the marker reaches only the main one. It
 * lets the spike measure its own browsers' CPU apart from any other
 * Chromium on the machine.
 */
function profileOf(marker: string): string | undefined {
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const args = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
      if (!args.includes(`--weirwood-spike=${marker}`)) continue;
      return args.find((arg) => arg.startsWith("--user-data-dir="));
    } catch {
      // exited while listing
    }
  }
  return undefined;
}

interface Session {
  report: BrowserEditorReport;
  context: BrowserContext;
  page: Page;
  markers: string[];
}

export class BrowserEditors {
  private typing = false;
  private loops: Promise<void>[] = [];

  private constructor(
    private readonly options: BrowserEditorsOptions,
    private readonly browser: Browser,
    private readonly sessions: Session[],
    /** A command-line piece that every process of these browsers has (see profileOf), when found. */
    readonly processMatch: string | undefined,
    /** Whether close() closes the browser: not when the caller lent it (a Playwright test's fixture). */
    private readonly ownsBrowser: boolean,
  ) {}

  /** Opens every browser's editor, connected: in `lent` (a test's browser) or in a Chromium of its own. */
  static async open(options: BrowserEditorsOptions, lent?: Browser): Promise<BrowserEditors> {
    if (options.accounts.length < options.count) throw new Error(`spike: ${options.count} browsers need ${options.count} accounts, got ${options.accounts.length}`);
    const marker = randomBytes(6).toString("hex");
    const browser = lent ?? (await launchChromium(marker));
    const sessions: Session[] = [];
    try {
      // One at a time: a page compiling CodeMirror while others connect slows them all on two cores.
      for (let index = 0; index < options.count; index++) sessions.push(await openSession(browser, options, index));
      return new BrowserEditors(options, browser, sessions, lent ? undefined : profileOf(marker), !lent);
    } catch (error) {
      if (lent) await Promise.all(sessions.map((session) => session.context.close()));
      else await browser.close();
      throw error;
    }
  }

  /** Starts typing in every browser, each on its own beat, until stop(). */
  startTyping(): void {
    this.typing = true;
    this.loops = this.sessions.map((session, i) => this.typeLoop(session, (i * this.options.editIntervalMs) / this.sessions.length));
  }

  /** Stops typing and waits until each page says its edits are saved (or `timeoutMs`). */
  async stopTyping(timeoutMs = 30_000): Promise<void> {
    this.typing = false;
    await Promise.all(this.loops);
    await Promise.all(
      this.sessions.map(async (session) => {
        const saving = session.page.getByTestId("status-saving").filter({ hasText: /^Saved/u });
        session.report.saved = await saving
          .waitFor({ timeout: timeoutMs })
          .then(() => true)
          .catch(() => false);
        if (session.report.saved) {
          session.report.savedAs = (await saving.textContent().catch(() => null)) ?? undefined;
          session.report.savedLevel = session.report.savedAs ? savedLevel(session.report.savedAs) : undefined;
        }
      }),
    );
  }

  /** Browser markers by page: acknowledged when the page said it saved them, else unacknowledged. */
  markers(): { acked: Map<string, string[]>; unacked: Map<string, string[]> } {
    const acked = new Map<string, string[]>();
    const unacked = new Map<string, string[]>();
    for (const session of this.sessions) {
      const into = session.report.saved ? acked : unacked;
      into.set(session.report.slug, [...(into.get(session.report.slug) ?? []), ...session.markers]);
    }
    return { acked, unacked };
  }

  /** What each browser's editor holds now, by browser. */
  async texts(): Promise<{ index: number; slug: string; text: string }[]> {
    return Promise.all(this.sessions.map(async (session) => ({ index: session.report.index, slug: session.report.slug, text: await editorText(session.page) })));
  }

  reports(): BrowserEditorReport[] {
    return this.sessions.map((session) => ({ ...session.report }));
  }

  async close(): Promise<void> {
    this.typing = false;
    await Promise.all(this.loops);
    if (this.ownsBrowser) await this.browser.close();
    else await Promise.all(this.sessions.map((session) => session.context.close()));
  }

  private async typeLoop(session: Session, offsetMs: number): Promise<void> {
    await sleep(offsetMs);
    const content = session.page.locator(".editor-source .cm-content");
    while (this.typing) {
      const started = Date.now();
      const marker = `[${this.options.markerTag}b${session.report.index}n${session.markers.length + 1}]`;
      try {
        await content.focus();
        await session.page.keyboard.press("Control+End");
        await session.page.keyboard.insertText(`${marker}\n`);
        session.markers.push(marker);
        session.report.typed += 1;
      } catch (error) {
        if (this.typing) throw new Error(`spike: browser ${session.report.index} could not type on ${session.report.slug}: ${(error as Error).message}`);
      }
      await sleep(Math.max(0, this.options.editIntervalMs - (Date.now() - started)));
    }
  }
}

async function openSession(browser: Browser, options: BrowserEditorsOptions, index: number): Promise<Session> {
  const slug = options.pages[index % options.pages.length]!;
  const pop = options.pops[index % options.pops.length]!;
  const context = await browser.newContext({ baseURL: options.originUrl });
  await context.addCookies([{ name: "weirwood_pop", value: pop, url: options.originUrl }]);
  const page = await context.newPage();
  const account = options.accounts[index]!;
  const login = await page.request.post("/api/auth/login", { data: account });
  if (!login.ok()) throw new Error(`spike: browser ${index} could not log in as ${account.name}: ${login.status()} ${await login.text()}`);
  const started = Date.now();
  await page.goto(`/wiki/${encodeURIComponent(slug)}/edit`);
  const connection = page.getByTestId("status-connection");
  await connection.filter({ hasText: /^Connected to /u }).waitFor({ timeout: 30_000 });
  const connectedTo = (await connection.textContent()) ?? "";
  if (!connectedTo.startsWith(`Connected to ${pop} `)) throw new Error(`spike: browser ${index} asked for PoP ${pop} but says "${connectedTo}"`);
  return { report: { index, slug, pop, connectedTo, typed: 0, saved: false, openMs: Date.now() - started }, context, page, markers: [] };
}

/**
 * The editor's whole text. CodeMirror renders only the lines in view, so
 * the DOM does not hold a long page: read the document from the view that
 * CodeMirror keeps on its content element (what EditorView.findFromDOM
 * reads; the page's bundle does not export EditorView to the window).
 */
function editorText(page: Page): Promise<string> {
  return page.locator(".editor-source .cm-content").evaluate((content) => {
    type Tile = { root?: { view?: { state: { doc: { toString(): string } } } } };
    const tile = (content as unknown as { cmTile?: Tile }).cmTile;
    const view = tile?.root?.view;
    if (!view) throw new Error("the CodeMirror view is not reachable from .cm-content (has @codemirror/view changed?)");
    return view.state.doc.toString();
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
