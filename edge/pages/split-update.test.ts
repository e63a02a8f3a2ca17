import { describe, expect, it } from "vitest";
import * as Y from "yjs";
import { splitUpdate } from "./split-update";

/** A page edited by three clients: big pastes (one struct each once merged), typing, an array, deletions. */
function editedDoc(): Y.Doc {
  const doc = new Y.Doc();
  const others = [new Y.Doc(), new Y.Doc()];
  const sync = () => {
    for (const other of others) {
      Y.applyUpdate(other, Y.encodeStateAsUpdate(doc, Y.encodeStateVector(other)));
      Y.applyUpdate(doc, Y.encodeStateAsUpdate(other, Y.encodeStateVector(doc)));
    }
  };
  const text = doc.getText("body");
  text.insert(0, "start ");
  for (let i = 0; i < 40; i++) text.insert(text.length, `line ${i} ${"x".repeat(1000)} 😀 é\n`);
  sync();
  others[0]!.getText("body").insert(3, "y".repeat(30_000));
  others[1]!.getArray("list").push(Array.from({ length: 500 }, (_, i) => ({ n: i, s: "z".repeat(40) })));
  sync();
  text.delete(10, 5000);
  others[0]!.getText("body").delete(0, 3);
  sync();
  return doc;
}

describe("splitUpdate", () => {
  it("cuts a diff into parts under the budget that, applied in order, make the same document", () => {
    const doc = editedDoc();
    const whole = Y.encodeStateAsUpdate(doc);
    const parts = splitUpdate(whole, 8 * 1024);
    expect(parts.length).toBeGreaterThan(10);
    for (const part of parts) expect(part.byteLength).toBeLessThanOrEqual(8 * 1024);
    const rebuilt = new Y.Doc();
    for (const part of parts) Y.applyUpdate(rebuilt, part);
    expect(rebuilt.getText("body").toString()).toBe(doc.getText("body").toString());
    expect(rebuilt.getArray("list").toJSON()).toEqual(doc.getArray("list").toJSON());
    expect(Y.encodeStateVector(rebuilt)).toEqual(Y.encodeStateVector(doc));
    expect(rebuilt.store.pendingStructs).toBeNull();
  });

  it("splits the diff against a state the receiver already has, and converges in any order", () => {
    const doc = editedDoc();
    const receiver = new Y.Doc();
    Y.applyUpdate(receiver, Y.encodeStateAsUpdate(doc));
    const before = Y.encodeStateVector(receiver);
    doc.getText("body").insert(7, "w".repeat(50_000));
    doc.getText("body").delete(0, 2);
    const parts = splitUpdate(Y.encodeStateAsUpdate(doc, before), 4096);
    expect(parts.length).toBeGreaterThan(10);
    const reversed = new Y.Doc();
    Y.applyUpdate(reversed, Y.encodeStateAsUpdate(receiver));
    for (const part of parts) Y.applyUpdate(receiver, part);
    for (const part of [...parts].reverse()) Y.applyUpdate(reversed, part);
    expect(receiver.getText("body").toString()).toBe(doc.getText("body").toString());
    expect(reversed.getText("body").toString()).toBe(doc.getText("body").toString());
  });

  it("leaves an update under the budget whole", () => {
    const doc = new Y.Doc();
    doc.getText("body").insert(0, "small");
    const update = Y.encodeStateAsUpdate(doc);
    expect(splitUpdate(update, 1024)).toEqual([update]);
  });
});
