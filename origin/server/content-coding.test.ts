import { describe, expect, it } from "vitest";
import { codingKey } from "./content-coding";

describe("the content-coding part of a page's ETag", () => {
  it("is the same for Chromium's and Playwright's Accept-Encoding, which Next answers alike with gzip", () => {
    expect(codingKey("gzip, deflate, br, zstd")).toBe(codingKey("gzip,deflate,br"));
  });

  it("keeps apart any other preference among gzip, deflate and identity", () => {
    const chromium = codingKey("gzip, deflate, br, zstd");
    for (const other of [undefined, "", "br", "deflate, gzip", "gzip;q=0.5, deflate", "identity;q=0, gzip"]) {
      expect(codingKey(other), String(other)).not.toBe(chromium);
    }
  });
});
