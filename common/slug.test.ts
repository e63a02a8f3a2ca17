import { describe, expect, it } from "vitest";
import { parseSlug, titlePrefixToSlugPrefix, titleToSlug } from "./slug";

describe("page slugs", () => {
  it("accept ordinary titles, accents and emoji", () => {
    expect(titleToSlug("the red wedding")).toBe("The_red_wedding");
    expect(parseSlug("Château_d'If")).toBe("Château_d'If");
    expect(parseSlug("Dragon_🐉")).toBe("Dragon_🐉");
  });

  it.each([
    ["zero-width space", "\u200b"],
    ["zero-width non-joiner", "\u200c"],
    ["zero-width joiner", "\u200d"],
    ["left-to-right mark", "\u200e"],
    ["right-to-left mark", "\u200f"],
    ["Arabic letter mark", "\u061c"],
    ["right-to-left embedding", "\u202b"],
    ["right-to-left override", "\u202e"],
    ["word joiner", "\u2060"],
    ["first strong isolate", "\u2068"],
    ["pop directional isolate", "\u2069"],
    ["byte order mark", "\ufeff"],
    ["soft hyphen", "\u00ad"],
  ])("refuse a %s, naming its code point", (_name, character) => {
    const codePoint = `U+${character.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`;
    expect(() => parseSlug(`Jon${character}_Snow`)).toThrow(new RegExp(`invisible or direction-changing character ${codePoint.replace("+", "\\+")}`));
    // JavaScript counts the byte order mark as white space: a title turns it into "_".
    if (!/\s/u.test(character)) expect(() => titleToSlug(`Jon${character} Snow`)).toThrow(/invisible or direction-changing/);
  });
});

describe("page-name prefixes", () => {
  it("match slugs as titles do, keeping a trailing space as a word's end", () => {
    expect(titlePrefixToSlugPrefix("the red")).toBe("The_red");
    expect(titlePrefixToSlugPrefix("  the  red ")).toBe("The_red_");
    expect(titlePrefixToSlugPrefix("Château_d")).toBe("Château_d");
  });

  it("refuse what no page name holds, and an empty prefix", () => {
    expect(() => titlePrefixToSlugPrefix("a[b")).toThrow(/no page name contains "\["/u);
    expect(() => titlePrefixToSlugPrefix("100%")).toThrow(/"%"/u);
    expect(() => titlePrefixToSlugPrefix("   ")).toThrow(/may not be empty/u);
  });
});
