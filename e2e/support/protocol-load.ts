import type { APIRequestContext } from "@playwright/test";
import { ProtocolEditor } from "../load/protocol-editor";
import { PASSWORD } from "./accounts";
import { uniqueWord } from "./seed";

/**
 * A small protocol-level load for browser tests: editors (e2e/load's
 * ProtocolEditor, no browser) typing into one page through real edges,
 * each waiting for its acknowledgement before the next keystroke. Each is
 * its own new account typing at a person's pace (`pauseMs` ≥ 70 stays
 * under the edge's 15 edits/s for new users; faster gets the socket closed).
 */
export class ProtocolLoad {
  acknowledged = 0;
  failed = 0;
  private running = true;
  private readonly loops: Promise<void>[] = [];

  private constructor(private readonly editors: ProtocolEditor[]) {}

  static async start(options: { request: APIRequestContext; edgeUrls: string[]; slug: string; perEdge: number; pauseMs: number }): Promise<ProtocolLoad> {
    const urls = options.edgeUrls.flatMap((url) => Array.from({ length: options.perEdge }, () => url));
    const editors = await Promise.all(
      urls.map(async (url) => ProtocolEditor.connect({ url, slug: options.slug, token: await register(options.request) })),
    );
    await Promise.all(editors.map((editor) => editor.synced));
    const load = new ProtocolLoad(editors);
    for (const editor of editors) load.loops.push(load.type(editor, options.pauseMs));
    return load;
  }

  private async type(editor: ProtocolEditor, pauseMs: number): Promise<void> {
    while (this.running && editor.isOpen) {
      try {
        await editor.insert(0, "x");
        this.acknowledged += 1;
      } catch {
        this.failed += 1;
      }
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
    await Promise.all(this.editors.map((editor) => editor.close()));
  }
}

async function register(request: APIRequestContext): Promise<string> {
  const name = `Loader ${uniqueWord("")}`;
  const response = await request.post("/api/auth/register", { data: { name, password: PASSWORD } });
  if (response.status() !== 201) throw new Error(`registering a load editor answered ${response.status()}: ${await response.text()}`);
  return ((await response.json()) as { token: string }).token;
}
