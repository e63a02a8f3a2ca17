import { diffChars, diffLines } from "diff";

/**
 * How one revision's text becomes the next's, in proportion to what changed:
 * a list of operations over the old text, in UTF-16 code units as JavaScript
 * strings count them. A positive number keeps that many characters, a
 * negative one deletes that many, a string inserts itself. Stored as JSON.
 */
export type TextDelta = (number | string)[];

export class TextDeltaError extends Error {
  override name = "TextDeltaError";
}

// Character diffs cost O(length x changes): above this a changed block is
// stored as a deletion and an insertion, which is still correct, only larger.
const CHAR_DIFF_MAX = 20_000;

export function textDelta(from: string, to: string): TextDelta {
  const delta = new DeltaBuilder();
  const changes = diffLines(from, to);
  for (let i = 0; i < changes.length; i++) {
    const change = changes[i]!;
    const next = changes[i + 1];
    if (!change.added && !change.removed) {
      delta.retain(change.value.length);
    } else if (next && (change.removed ? next.added : next.removed)) {
      // A block of lines replaced by another: most of it is usually the same
      // characters (a word typed at the end of each line), so refine it.
      const [removed, added] = change.removed ? [change.value, next.value] : [next.value, change.value];
      refine(delta, removed, added);
      i++;
    } else if (change.removed) {
      delta.delete(change.value.length);
    } else {
      delta.insert(change.value);
    }
  }
  return delta.finish();
}

function refine(delta: DeltaBuilder, removed: string, added: string): void {
  const oldLines = removed.split(/(?<=\n)/u);
  const newLines = added.split(/(?<=\n)/u);
  if (oldLines.length === newLines.length) {
    // Line by line: a common prefix and suffix each, linear and exact for
    // one change per line, the crowd's usual case.
    oldLines.forEach((line, index) => replaceAround(delta, line, newLines[index]!));
    return;
  }
  if (removed.length <= CHAR_DIFF_MAX && added.length <= CHAR_DIFF_MAX) {
    for (const change of diffChars(removed, added)) {
      if (change.added) delta.insert(change.value);
      else if (change.removed) delta.delete(change.value.length);
      else delta.retain(change.value.length);
    }
    return;
  }
  delta.delete(removed.length);
  delta.insert(added);
}

function replaceAround(delta: DeltaBuilder, from: string, to: string): void {
  let prefix = 0;
  const shorter = Math.min(from.length, to.length);
  while (prefix < shorter && from.charCodeAt(prefix) === to.charCodeAt(prefix)) prefix++;
  let suffix = 0;
  while (suffix < shorter - prefix && from.charCodeAt(from.length - 1 - suffix) === to.charCodeAt(to.length - 1 - suffix)) suffix++;
  delta.retain(prefix);
  delta.delete(from.length - prefix - suffix);
  delta.insert(to.slice(prefix, to.length - suffix));
  delta.retain(suffix);
}

class DeltaBuilder {
  private readonly ops: TextDelta = [];

  retain(count: number): void {
    if (count > 0) this.push(count, (last) => typeof last === "number" && last > 0);
  }

  delete(count: number): void {
    if (count > 0) this.push(-count, (last) => typeof last === "number" && last < 0);
  }

  insert(text: string): void {
    if (text.length === 0) return;
    const last = this.ops.at(-1);
    if (typeof last === "string") this.ops[this.ops.length - 1] = last + text;
    else this.ops.push(text);
  }

  finish(): TextDelta {
    // What follows the last change is kept implicitly.
    while (typeof this.ops.at(-1) === "number" && (this.ops.at(-1) as number) > 0) this.ops.pop();
    return this.ops;
  }

  private push(value: number, sameKind: (last: number | string | undefined) => boolean): void {
    const last = this.ops.at(-1);
    if (sameKind(last)) this.ops[this.ops.length - 1] = (last as number) + value;
    else this.ops.push(value);
  }
}

export function applyTextDelta(from: string, delta: TextDelta): string {
  let position = 0;
  const parts: string[] = [];
  for (const op of delta) {
    if (typeof op === "string") {
      parts.push(op);
    } else if (op > 0) {
      if (position + op > from.length) throw new TextDeltaError(`delta keeps ${op} characters at ${position} of a ${from.length}-character text`);
      parts.push(from.slice(position, position + op));
      position += op;
    } else if (op < 0) {
      if (position - op > from.length) throw new TextDeltaError(`delta deletes ${-op} characters at ${position} of a ${from.length}-character text`);
      position -= op;
    } else {
      throw new TextDeltaError("delta holds a zero operation");
    }
  }
  parts.push(from.slice(position));
  return parts.join("");
}

export function parseTextDelta(json: string): TextDelta {
  const value: unknown = JSON.parse(json);
  if (!Array.isArray(value) || !value.every((op) => typeof op === "string" || (Number.isInteger(op) && op !== 0))) {
    throw new TextDeltaError("a stored revision delta is not a list of integers and strings");
  }
  return value as TextDelta;
}
