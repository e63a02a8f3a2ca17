import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as Y from "yjs";
import type { Slug } from "../common/slug";
import { fromBase64, type PageState, toBase64 } from "../protocol/flush";
import { testDatabases } from "../tests/support/databases";
import type { Database } from "./db";
import { docCacheOf } from "./doc-cache";
import { mergeBatch } from "./merge";
import { readPageState } from "./page-state";

/** What a page-state answer holds, applied over the document the `since` vector came from. */
function textAfter(state: PageState, from: Y.Doc | undefined): string {
  const copy = new Y.Doc();
  if (from) Y.applyUpdate(copy, Y.encodeStateAsUpdate(from));
  Y.applyUpdate(copy, fromBase64(state.state));
  const text = copy.getText("body").toString();
  copy.destroy();
  return text;
}

/**
 * The other PoPs' pulls after a commit read the page from the merges'
 * document when it is at the page's current version (origin/page-state.ts),
 * else from the base and the rows: both answers must say the same.
 */
describe.each(testDatabases)("page state read from the merges' document ($name)", (kind) => {
  let db: Database;
  beforeAll(async () => {
    db = await kind.open();
  });
  afterAll(async () => {
    await db?.close();
  });

  async function flush(slug: Slug, doc: Y.Doc, acknowledged: Uint8Array | undefined): Promise<Uint8Array> {
    const { answer } = await mergeBatch(db.prisma, {
      batchId: randomUUID(),
      pop: "us-east",
      edge: "us-east-a",
      pages: [{ slug, update: toBase64(Y.encodeStateAsUpdate(doc, acknowledged)), stateVector: toBase64(Y.encodeStateVector(doc)), editCount: 1, authors: ["Arya"] }],
    });
    Y.applyUpdate(doc, fromBase64(answer.pages[0]!.missing));
    return fromBase64(answer.pages[0]!.stateVector);
  }

  it("answers the same from the document as from the rows, whole and past a state vector", async () => {
    const slug = `Braavos_${randomUUID().slice(0, 8)}` as Slug;
    const [arya, jaqen] = [new Y.Doc(), new Y.Doc()];
    let [ackA, ackJ]: (Uint8Array | undefined)[] = [undefined, undefined];
    arya.getText("body").insert(0, "A girl has no name. ");
    ackA = await flush(slug, arya, ackA);
    const behind = new Y.Doc();
    Y.applyUpdate(behind, Y.encodeStateAsUpdate(arya));
    jaqen.getText("body").insert(0, "Valar morghulis. ");
    ackJ = await flush(slug, jaqen, ackJ);
    arya.getText("body").delete(0, 7);
    arya.getText("body").insert(arya.getText("body").length, "The House of Black and White.");
    ackA = await flush(slug, arya, ackA);
    await flush(slug, jaqen, ackJ);

    for (const since of [undefined, behind]) {
      const vector = since ? Y.encodeStateVector(since) : undefined;
      const fromDocument = await readPageState(db.prisma, slug, vector);
      docCacheOf(db.prisma).clear();
      const fromRows = await readPageState(db.prisma, slug, vector);
      expect(textAfter(fromDocument, since)).toBe(textAfter(fromRows, since));
      expect(textAfter(fromDocument, since)).toBe(jaqen.getText("body").toString());
      expect(Y.decodeStateVector(fromBase64(fromDocument.stateVector))).toEqual(Y.decodeStateVector(fromBase64(fromRows.stateVector)));
      expect({ ...fromDocument, state: "", stateVector: "" }).toEqual({ ...fromRows, state: "", stateVector: "" });
      // The next flush puts the document back in the cache.
      await flush(slug, arya, ackA);
      ackA = Y.encodeStateVector(arya);
    }
  });

  it("never answers from a document at another version than the page's", async () => {
    const slug = `Pentos_${randomUUID().slice(0, 8)}` as Slug;
    const writer = new Y.Doc();
    writer.getText("body").insert(0, "Illyrio's manse.");
    await flush(slug, writer, undefined);
    const id = (await db.prisma.page.findUniqueOrThrow({ where: { slug }, select: { id: true } })).id;
    const cache = docCacheOf(db.prisma);
    const current = cache.take(id, 1n)!;
    // A document one version behind the page's, as another origin process's commit leaves it.
    const stale = new Y.Doc();
    stale.getText("body").insert(0, "Not what the page holds.");
    cache.put(id, { doc: stale, seq: 0n, bytes: 100 });
    expect(textAfter(await readPageState(db.prisma, slug), undefined)).toBe("Illyrio's manse.");
    current.doc.destroy();
  });
});
