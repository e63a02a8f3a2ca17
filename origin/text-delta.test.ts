import { describe, expect, it } from "vitest";
import { applyTextDelta, parseTextDelta, textDelta } from "./text-delta";

function roundTrip(from: string, to: string) {
  const delta = textDelta(from, to);
  expect(applyTextDelta(from, parseTextDelta(JSON.stringify(delta)))).toBe(to);
  return delta;
}

describe("text deltas", () => {
  it("turn one text into another, whatever the change", () => {
    const cases: [string, string][] = [
      ["", ""],
      ["", "A new page.\n"],
      ["Gone.\n", ""],
      ["one\ntwo\nthree\n", "one\n2\nthree\nfour\n"],
      ["no newline at the end", "no newline at all at the end"],
      ["a\nb\nc", "c\nb\na"],
      ["Ser Jorah 🐉 Mormont\n", "Ser Jorah 🐉🐉 Mormont the Andal\n"],
    ];
    for (const [from, to] of cases) roundTrip(from, to);
  });

  it("store what changed, not the page: a word at the end of every line of a 50 KB page", () => {
    const lines = Array.from({ length: 500 }, (_, i) => `Line ${i} of the crowd's page, typed by editor ${i % 100}.`);
    const from = lines.join("\n") + "\n";
    const to = lines.map((line) => `${line} more`).join("\n") + "\n";
    const delta = roundTrip(from, to);
    expect(JSON.stringify(delta).length).toBeLessThan(2 * (to.length - from.length) + 2 * 500 * 6);
  });

  it("survive random edits", () => {
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    let text = "The Red Wedding.\n".repeat(40);
    for (let round = 0; round < 200; round++) {
      let next = text;
      for (let edit = 0; edit < 5; edit++) {
        const at = Math.floor(random() * next.length);
        next = random() < 0.5 ? next.slice(0, at) + (random() < 0.2 ? "\n" : "x") + next.slice(at) : next.slice(0, at) + next.slice(at + 1);
      }
      roundTrip(text, next);
      text = next;
    }
  });

  it("refuse a delta that does not fit the text it is applied to", () => {
    expect(() => applyTextDelta("short", [10])).toThrow(/keeps 10 characters at 0 of a 5-character text/u);
    expect(() => applyTextDelta("short", [-10])).toThrow(/deletes 10/u);
    expect(() => parseTextDelta('[1, {"x": 2}]')).toThrow(/not a list/u);
  });
});
