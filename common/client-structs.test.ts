import { describe, expect, it } from "vitest";
import * as Y from "yjs";
import { firstConflict, introducedClients, readStructs, withoutClients } from "./client-structs";

/** A document whose edits go under `clientID`, typing `text` into its body. */
function typed(clientID: number, text: string, base?: Uint8Array): Uint8Array {
  const doc = new Y.Doc();
  if (base) Y.applyUpdate(doc, base);
  doc.clientID = clientID;
  const before = Y.encodeStateVector(doc);
  doc.getText("body").insert(doc.getText("body").length, text);
  return Y.encodeStateAsUpdate(doc, before);
}

function docOf(...updates: Uint8Array[]): Y.Doc {
  const doc = new Y.Doc();
  for (const update of updates) Y.applyUpdate(doc, update);
  return doc;
}

/** Client 7 typed "hello"; client 8 then inserted "XY" inside it, which splits 7's item in two in the document. */
function helloSplit(): { first: Uint8Array; doc: Y.Doc } {
  const first = typed(7, "hello");
  const doc = docOf(first);
  const other = new Y.Doc();
  Y.applyUpdate(other, first);
  other.clientID = 8;
  other.getText("body").insert(2, "XY");
  Y.applyUpdate(doc, Y.encodeStateAsUpdate(other));
  return { first, doc };
}

describe("client structs", () => {
  it("an honest resend agrees with the document, however Yjs split its items", () => {
    const { first, doc } = helloSplit();
    expect(firstConflict(doc, readStructs(first))).toBeUndefined();
    expect(doc.getText("body").toString()).toBe("heXYllo");
  });

  it("different content under a clock the document holds is a conflict, at that clock", () => {
    const doc = docOf(typed(7, "hello"));
    expect(firstConflict(doc, readStructs(typed(7, "help!")))).toEqual({ client: 7, clock: 3 });
  });

  it("compares any content past an item's first clock, and past a split of the document's item", () => {
    const listed = (values: number[]) => {
      const doc = new Y.Doc();
      doc.clientID = 7;
      doc.getArray("list").insert(0, values);
      return Y.encodeStateAsUpdate(doc);
    };
    const list = docOf(listed([1, 2, 3, 4]));
    expect(firstConflict(list, readStructs(listed([1, 2, 3, 4])))).toBeUndefined();
    expect(firstConflict(list, readStructs(listed([1, 2, 9, 4])))).toEqual({ client: 7, clock: 2 });
    // The document holds client 7's "hello" in two items ("he", "llo"); the update in one.
    const { doc } = helloSplit();
    expect(firstConflict(doc, readStructs(typed(7, "helLo")))).toEqual({ client: 7, clock: 3 });
    expect(firstConflict(doc, readStructs(typed(7, "hellO")))).toEqual({ client: 7, clock: 4 });
  });

  it("the same content at another place is a conflict", () => {
    const base = typed(1, "ab");
    const doc = docOf(base, typed(7, "x", base));
    const elsewhere = new Y.Doc();
    Y.applyUpdate(elsewhere, base);
    elsewhere.clientID = 7;
    elsewhere.getText("body").insert(0, "x");
    expect(firstConflict(doc, readStructs(Y.encodeStateAsUpdate(elsewhere, Y.encodeStateVector(docOf(base)))))).toEqual({ client: 7, clock: 0 });
  });

  it("a longer update that starts with what the document holds agrees, and introduces its client", () => {
    const doc = docOf(typed(7, "hel"));
    const structs = readStructs(typed(7, "hello"));
    expect(firstConflict(doc, structs)).toBeUndefined();
    expect(introducedClients(doc, structs)).toEqual([7]);
    expect(introducedClients(doc, readStructs(typed(7, "he")))).toEqual([]);
  });

  it("garbage-collected content cannot be compared and is taken as agreeing", () => {
    const first = typed(7, "hello");
    const doc = docOf(first);
    doc.getText("body").delete(0, 5);
    expect(firstConflict(doc, readStructs(typed(7, "HELLO")))).toBeUndefined();
  });

  it("structs of refused clients are taken out, the rest and the deletions stay", () => {
    const base = typed(1, "ab");
    const merged = Y.mergeUpdates([base, typed(7, "x", base)]);
    const doc = docOf(withoutClients(merged, [7]));
    expect(doc.getText("body").toString()).toBe("ab");
    expect(Y.getState(doc.store, 7)).toBe(0);
  });
});
