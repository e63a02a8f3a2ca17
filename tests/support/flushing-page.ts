import { randomUUID } from "node:crypto";
import * as Y from "yjs";
import { type FlushBatch, toBase64 } from "../../protocol/flush";

/** A page as one edge holds it, its changes flushed to an origin's HTTP API as the edges do. */
export class FlushingPage {
  private readonly doc = new Y.Doc();
  private acknowledged: Uint8Array | undefined;
  constructor(readonly slug: string) {}

  /** Replaces the page's text, as one flush of one edit by `authors`. */
  async write(origin: { url: string; serviceSecret: string }, text: string, authors: string[] = ["Arya"]): Promise<void> {
    const body = this.doc.getText("body");
    body.delete(0, body.length);
    body.insert(0, text);
    const batch: FlushBatch = {
      batchId: `us-east-${randomUUID()}`,
      pop: "us-east",
      edge: "us-east-a",
      pages: [
        {
          slug: this.slug,
          update: toBase64(Y.encodeStateAsUpdate(this.doc, this.acknowledged)),
          stateVector: toBase64(Y.encodeStateVector(this.doc)),
          editCount: 1,
          authors,
        },
      ],
    };
    const response = await fetch(`${origin.url}/api/internal/flush`, {
      method: "POST",
      headers: { authorization: `Bearer ${origin.serviceSecret}`, "content-type": "application/json" },
      body: JSON.stringify(batch),
    });
    if (response.status !== 200) throw new Error(`flushing ${this.slug} answered ${response.status}: ${await response.text()}`);
    this.acknowledged = Y.encodeStateVector(this.doc);
  }
}
