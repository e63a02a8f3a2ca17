import { diffLines, diffWordsWithSpace } from "diff";

/** A run of text in a word-level diff. */
export interface DiffSegment {
  text: string;
  change: "same" | "added" | "removed";
}

export type DiffBlock =
  /** Unchanged lines (without their final newline). */
  | { kind: "same"; lines: string[] }
  /** Lines only the older revision has. */
  | { kind: "removed"; lines: string[] }
  /** Lines only the newer revision has. */
  | { kind: "added"; lines: string[] }
  /** Lines that changed: both sides, with the words that differ marked. */
  | { kind: "changed"; before: DiffSegment[]; after: DiffSegment[] };

export interface RevisionDiff {
  blocks: DiffBlock[];
  linesAdded: number;
  linesRemoved: number;
}

function linesOf(value: string): string[] {
  const lines = value.split("\n");
  if (lines.at(-1) === "") lines.pop();
  return lines;
}

/** Merges neighbouring segments of the same kind: one <ins> per run, not per word. */
function joined(segments: DiffSegment[]): DiffSegment[] {
  const merged: DiffSegment[] = [];
  for (const segment of segments) {
    const last = merged.at(-1);
    if (last && last.change === segment.change) last.text += segment.text;
    else merged.push({ ...segment });
  }
  return merged;
}

/**
 * A line diff of two revisions' texts; where a run of removed lines is
 * followed by added ones, a word diff of the two runs shows what changed
 * inside them (line and word level, issue 4).
 */
export function diffRevisions(before: string, after: string): RevisionDiff {
  // A last line without its newline would otherwise differ from the same line with one.
  const parts = diffLines(before.endsWith("\n") ? before : `${before}\n`, after.endsWith("\n") ? after : `${after}\n`);
  const blocks: DiffBlock[] = [];
  let linesAdded = 0;
  let linesRemoved = 0;
  for (let index = 0; index < parts.length; index += 1) {
    const part = parts[index]!;
    const next = parts[index + 1];
    if (part.removed && next?.added) {
      const words = diffWordsWithSpace(part.value.replace(/\n$/u, ""), next.value.replace(/\n$/u, ""));
      blocks.push({
        kind: "changed",
        before: joined(words.filter((word) => !word.added).map((word) => ({ text: word.value, change: word.removed ? "removed" : "same" }))),
        after: joined(words.filter((word) => !word.removed).map((word) => ({ text: word.value, change: word.added ? "added" : "same" }))),
      });
      linesRemoved += linesOf(part.value).length;
      linesAdded += linesOf(next.value).length;
      index += 1;
    } else if (part.removed) {
      blocks.push({ kind: "removed", lines: linesOf(part.value) });
      linesRemoved += linesOf(part.value).length;
    } else if (part.added) {
      blocks.push({ kind: "added", lines: linesOf(part.value) });
      linesAdded += linesOf(part.value).length;
    } else {
      blocks.push({ kind: "same", lines: linesOf(part.value) });
    }
  }
  return { blocks, linesAdded, linesRemoved };
}
