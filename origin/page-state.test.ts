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

  it("waits for the merge that holds the page's document rather than reading the page's rows", async () => {
    const slug = `Volantis_${randomUUID().slice(0, 8)}` as Slug;
    const writer = new Y.Doc();
    writer.getText("body").insert(0, "The Long Bridge.");
    await flush(slug, writer, undefined);
    const id = (await db.prisma.page.findUniqueOrThrow({ where: { slug }, select: { id: true } })).id;
    const cache = docCacheOf(db.prisma);
    const builds = cache.builds.read;
    // Taken as a merge takes it: out of the cache until the merge puts it back.
    const held = cache.take(id, cache.versionOf(id)!)!;
    let answered = false;
    const reading = readPageState(db.prisma, slug).then((state) => {
      answered = true;
      return state;
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(answered).toBe(false);
    cache.put(id, held);
    expect(textAfter(await reading, undefined)).toBe("The Long Bridge.");
    expect(cache.builds.read).toBe(builds);
  });

  it("builds a page two PoPs flush at once from its rows never again, however merges and reads interleave", async () => {
    const slug = `Meereen_${randomUUID().slice(0, 8)}` as Slug;
    const cache = docCacheOf(db.prisma);
    const [east, west] = [new Y.Doc(), new Y.Doc()];
    east.getText("body").insert(0, "The Great Pyramid. ");
    let [ackEast, ackWest] = [await flush(slug, east, undefined), undefined as Uint8Array | undefined];
    const before = { ...cache.builds };
    for (let round = 0; round < 8; round++) {
      east.getText("body").insert(east.getText("body").length, `E${round} `);
      west.getText("body").insert(west.getText("body").length, `W${round} `);
      const sentEast = Y.encodeStateVector(east);
      const sentWest = Y.encodeStateVector(west);
      await Promise.all([flush(slug, east, ackEast), flush(slug, west, ackWest), readPageState(db.prisma, slug), readPageState(db.prisma, slug, sentEast)]);
      [ackEast, ackWest] = [sentEast, sentWest];
    }
    expect(cache.builds).toEqual(before);
    const text = textAfter(await readPageState(db.prisma, slug), undefined);
    for (let round = 0; round < 8; round++) {
      expect(text).toContain(`E${round} `);
      expect(text).toContain(`W${round} `);
    }
  });
});
