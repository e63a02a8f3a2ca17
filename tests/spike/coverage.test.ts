import { describe, expect, it } from "vitest";
import { Coverage } from "../../e2e/spike/hot-page/coverage";

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
