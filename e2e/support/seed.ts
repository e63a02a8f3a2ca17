import { randomBytes, randomUUID } from "node:crypto";
import { type APIRequestContext, expect } from "@playwright/test";
import * as Y from "yjs";
import { type FlushBatch, toBase64 } from "../../protocol/flush";
import { serviceSecret } from "./env";

/**
 * Pages written the way an edge writes them: a Yjs document per page,
 * flushed to the origin (POST /api/internal/flush, protocol/flush.ts).
 * Each flush waits until the page's history holds it: the origin refreshes
 * text, links, search and history off the flush path, within a second or
 * so of a page going quiet. Consecutive flushes by the same authors are
 * grouped into one revision, as a person's burst of typing is.
 */
export class SeededPage {
  readonly doc = new Y.Doc();
  private acknowledged: Uint8Array | undefined;

  constructor(
    readonly slug: string,
    private readonly request: APIRequestContext,
  ) {}

  get text(): string {
    return this.doc.getText("body").toString();
  }

  /** Changes the text and flushes the change as one revision. */
  async edit(
    change: (body: Y.Text) => void,
    { pop = "us-east", authors = ["Seed"], edits = 1 }: { pop?: string; authors?: string[]; edits?: number } = {},
  ): Promise<void> {
    change(this.doc.getText("body"));
    const batch: FlushBatch = {
      batchId: `e2e-${pop}-${randomUUID()}`,
      pop,
      edge: `${pop}-seed`,
      pages: [
        {
          slug: this.slug,
          update: toBase64(Y.encodeStateAsUpdate(this.doc, this.acknowledged)),
          stateVector: toBase64(Y.encodeStateVector(this.doc)),
          editCount: edits,
          authors,
        },
      ],
    };
    const response = await this.request.post("/api/internal/flush", {
      headers: { authorization: `Bearer ${serviceSecret()}` },
      data: batch,
    });
    expect(response.status(), await response.text()).toBe(200);
    this.acknowledged = Y.encodeStateVector(this.doc);
    await expect.poll(() => this.newestRevisionText(), { timeout: 15_000, message: `the history of ${this.slug} never showed the flush` }).toBe(this.text);
  }

  private async newestRevisionText(): Promise<string | undefined> {
    const history = await this.request.get(`/api/pages/${this.slug}/history?limit=1`);
    if (!history.ok()) return undefined;
    const newest = ((await history.json()) as { revisions: { number: number }[] }).revisions[0];
    if (!newest) return undefined;
    const revision = await this.request.get(`/api/pages/${this.slug}/revisions/${newest.number}`);
    return revision.ok() ? ((await revision.json()) as { text: string }).text : undefined;
  }

  /** Replaces the whole text (one revision). */
  replace(text: string, options?: Parameters<SeededPage["edit"]>[1]): Promise<void> {
    return this.edit((body) => {
      body.delete(0, body.length);
      body.insert(0, text);
    }, options);
  }
}

export async function seedPage(
  request: APIRequestContext,
  slug: string,
  text: string,
  options?: Parameters<SeededPage["edit"]>[1],
): Promise<SeededPage> {
  const page = new SeededPage(slug, request);
  await page.replace(text, options);
  return page;
}

/** A slug no other test uses: `${Prefix}_${random}`. */
export function uniqueSlug(prefix: string): string {
  return `${prefix}_${randomUUID().slice(0, 8)}`;
}

/** A word no other page holds: letters only, so every parser sees one word. */
export function uniqueWord(prefix: string): string {
  return prefix + [...randomBytes(6)].map((byte) => String.fromCharCode(97 + (byte % 26))).join("");
}
