import { describe, expect, it } from "vitest";
import * as Y from "yjs";
import { clockRanges, Coverage } from "../../e2e/spike/hot-page/coverage";
import { type CheckedReceiver, undeliveredOf } from "../../e2e/spike/hot-page/delivery-check";

describe("a receiver's coverage of the authors' clocks", () => {
  it("holds what arrived in order, and nothing beyond it", () => {
    const coverage = new Coverage();
    coverage.add(1001, 0, 10);
    coverage.add(1001, 10, 25);
    coverage.add(1001, 5, 12);
    expect(coverage.has(1001, 0)).toBe(true);
    expect(coverage.has(1001, 24)).toBe(true);
    expect(coverage.has(1001, 25)).toBe(false);
    expect(coverage.has(2002, 0)).toBe(false);
  });

  it("keeps a piece that arrived early apart until the gap before it is filled", () => {
    const coverage = new Coverage();
    coverage.add(7, 0, 5);
    coverage.add(7, 20, 30);
    coverage.add(7, 10, 15);
    expect(coverage.has(7, 25)).toBe(true);
    expect(coverage.has(7, 7)).toBe(false);
    expect(coverage.has(7, 17)).toBe(false);
    coverage.add(7, 5, 10);
    coverage.add(7, 15, 20);
    for (const clock of [7, 12, 17, 29]) expect(coverage.has(7, clock)).toBe(true);
    expect(coverage.has(7, 30)).toBe(false);
  });

  it("grows to thousands of authors", () => {
    const coverage = new Coverage();
    for (let author = 0; author < 3000; author++) coverage.add(1_000_000 + author, 0, author + 1);
    expect(coverage.has(1_002_999, 2999)).toBe(true);
    expect(coverage.has(1_002_999, 3000)).toBe(false);
    expect(coverage.has(1_000_000, 0)).toBe(true);
  });
});

/** One author's three edits, each as its own update: `[a]` at clocks 0-2, `[b]` 3-5, `[c]` 6-8. */
function threeEdits(): { client: number; updates: Uint8Array[] } {
  const doc = new Y.Doc();
  const updates: Uint8Array[] = [];
  doc.on("update", (update: Uint8Array) => updates.push(update));
  const text = doc.getText("body");
  for (const marker of ["[a]", "[b]", "[c]"]) text.insert(text.length, marker);
  return { client: doc.clientID, updates };
}

describe("the clock ranges an update carries", () => {
  it("leave a gap where a merged update lacks an author's middle edit", () => {
    const { client, updates } = threeEdits();
    // What an edge's fan-out window looks like when it lacks the middle edit.
    const merged = Y.mergeUpdates([updates[0]!, updates[2]!]);
    expect(clockRanges(merged)).toEqual([
      [client, 0, 3],
      [client, 6, 9],
    ]);
    const coverage = new Coverage();
    for (const [author, from, to] of clockRanges(merged)) coverage.add(author, from, to);
    expect(coverage.has(client, 0)).toBe(true);
    expect(coverage.has(client, 3)).toBe(false);
    expect(coverage.has(client, 6)).toBe(true);
  });

  it("join an author's adjacent structs into one range", () => {
    const { client, updates } = threeEdits();
    expect(clockRanges(Y.mergeUpdates(updates))).toEqual([[client, 0, 9]]);
  });
});

describe("the hot page's delivery check", () => {
  const receiver = (label: string, ranges: [number, number, number][], doc?: Y.Doc): CheckedReceiver => {
    const coverage = new Coverage();
    for (const [author, from, to] of ranges) coverage.add(author, from, to);
    return { label, coverage, doc };
  };

  it("passes receivers that got every acknowledged edit", () => {
    const { client } = threeEdits();
    const result = undeliveredOf([receiver("a", [[client, 0, 9]]), receiver("b", [[client, 0, 9]])], [[client, [0, 3, 6]]]);
    expect(result).toEqual({ undelivered: 0, receiversMissing: 0, receiversChecked: 2, examples: [] });
  });

  it("counts each acknowledged edit a receiver lacks, a gap inside an author's range included", () => {
    const { client, updates } = threeEdits();
    const gap = clockRanges(Y.mergeUpdates([updates[0]!, updates[2]!]));
    const result = undeliveredOf([receiver("whole", [[client, 0, 9]]), receiver("gap", gap), receiver("closed early", [[client, 0, 3]])], [[client, [0, 3, 6]]]);
    expect(result).toMatchObject({ undelivered: 1 + 2, receiversMissing: 2, receiversChecked: 3 });
    expect(result.examples).toEqual([`gap lacks ${client}:3`, `closed early lacks ${client}:3`, `closed early lacks ${client}:6`]);
  });

  it("counts an edit a probe received but could not integrate (its page lacks what it depends on) as undelivered", () => {
    const { client, updates } = threeEdits();
    // The probe got `[a]` and `[c]` as separate messages, never `[b]`: `[c]` waits in its document.
    const doc = new Y.Doc();
    Y.applyUpdate(doc, updates[0]!);
    Y.applyUpdate(doc, updates[2]!);
    const probe = receiver("probe", [...clockRanges(updates[0]!), ...clockRanges(updates[2]!)], doc);
    const result = undeliveredOf([probe], [[client, [0, 6]]]);
    expect(result).toMatchObject({ undelivered: 1, receiversMissing: 1 });
    expect(result.examples).toEqual([`probe lacks ${client}:6`]);
  });
});
