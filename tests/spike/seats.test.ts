import { describe, expect, it } from "vitest";
import { seatEnd, seatsText } from "../../e2e/spike/hot-page/seats";

describe("the hot-page crowd's seats", () => {
  it("puts each editor at the end of its own line, and seat 1 is not seat 10", () => {
    const text = seatsText(12);
    for (const editor of [0, 1, 10, 11]) {
      const at = seatEnd(text, editor);
      expect(text[at]).toBe("\n");
      expect(text.slice(0, at).endsWith(`seat ${editor}:`)).toBe(true);
    }
  });

  it("still finds a seat after its editor typed on it", () => {
    const text = seatsText(3);
    const at = seatEnd(text, 1);
    const typed = `${text.slice(0, at)}[x1]${text.slice(at)}`;
    expect(seatEnd(typed, 2)).toBe(seatEnd(text, 2) + 4);
  });

  it("says so when the page lacks a seat", () => {
    expect(() => seatEnd(seatsText(2), 5)).toThrow(/no line "seat 5:"/);
  });
});
