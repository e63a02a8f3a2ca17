import { describe, expect, it } from "vitest";
import { type DiffSegment, diffRevisions } from "./diff";

describe("revision diffs", () => {
  it("marks the words that changed inside a changed line", () => {
    const diff = diffRevisions("The Starks are at the Twins.\nMusic plays.", "The Starks are at the Twins.\nThe Rains of Castamere plays.");
    expect(diff.blocks[0]).toEqual({ kind: "same", lines: ["The Starks are at the Twins."] });
    const changed = diff.blocks[1];
    if (changed?.kind !== "changed") throw new Error(`expected a changed block, got ${JSON.stringify(changed)}`);
    const text = (segments: DiffSegment[], change: DiffSegment["change"]) =>
      segments.filter((segment) => segment.change === change).map((segment) => segment.text.trim()).join(" ");
    expect(changed.before.map((segment) => segment.text).join("")).toBe("Music plays.");
    expect(changed.after.map((segment) => segment.text).join("")).toBe("The Rains of Castamere plays.");
    expect(text(changed.before, "removed")).toBe("Music");
    expect(text(changed.after, "added")).toBe("The Rains of Castamere");
    expect(text(changed.after, "same")).toContain("plays.");
    expect(diff).toMatchObject({ linesAdded: 1, linesRemoved: 1 });
  });

  it("shows whole added and removed lines", () => {
    const diff = diffRevisions("one\ntwo\nthree\n", "one\nthree\nfour");
    expect(diff.blocks).toEqual([
      { kind: "same", lines: ["one"] },
      { kind: "removed", lines: ["two"] },
      { kind: "same", lines: ["three"] },
      { kind: "added", lines: ["four"] },
    ]);
    expect(diff).toMatchObject({ linesAdded: 1, linesRemoved: 1 });
  });

  it("finds nothing between equal texts, with or without a final newline", () => {
    expect(diffRevisions("same\ntext", "same\ntext\n").blocks).toEqual([{ kind: "same", lines: ["same", "text"] }]);
  });

  it("diffs from and to an empty page", () => {
    expect(diffRevisions("", "new").blocks).toContainEqual({ kind: "changed", before: [], after: [{ text: "new", change: "added" }] });
    expect(diffRevisions("old", "").blocks).toContainEqual({ kind: "changed", before: [{ text: "old", change: "removed" }], after: [] });
  });
});
