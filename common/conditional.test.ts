import { describe, expect, it } from "vitest";
import { cacheableJson, ifNoneMatchHits, strongEtag } from "./conditional";

describe("If-None-Match against a strong tag (RFC 9110 §13.1.2)", () => {
  const etag = strongEtag({ page: "Winterfell", revision: 3 });

  it("hits the tag, the tag in a list, its weak form and *", () => {
    expect(ifNoneMatchHits(etag, etag)).toBe(true);
    expect(ifNoneMatchHits(`"other", ${etag}`, etag)).toBe(true);
    expect(ifNoneMatchHits(`W/${etag}`, etag)).toBe(true);
    expect(ifNoneMatchHits("*", etag)).toBe(true);
  });

  it("misses another tag, the unquoted value and no header", () => {
    expect(ifNoneMatchHits(strongEtag({ page: "Winterfell", revision: 4 }), etag)).toBe(false);
    expect(ifNoneMatchHits(etag.slice(1, -1), etag)).toBe(false);
    expect(ifNoneMatchHits(null, etag)).toBe(false);
    expect(ifNoneMatchHits("", etag)).toBe(false);
  });
});

describe("a cacheable JSON answer", () => {
  it("is tagged by its body: the same body, the same tag; a 304 without a body to that tag", async () => {
    const body = { slug: "Winterfell", text: "The north remembers." };
    const first = cacheableJson(new Request("http://wiki.test/api/pages/Winterfell"), body, "public, s-maxage=5");
    const etag = first.headers.get("etag")!;
    expect(cacheableJson(new Request("http://wiki.test/api/pages/Winterfell"), { ...body }, "public, s-maxage=5").headers.get("etag")).toBe(etag);
    expect(cacheableJson(new Request("http://wiki.test/"), { ...body, text: "Winter came." }, "public").headers.get("etag")).not.toBe(etag);
    const revalidated = cacheableJson(new Request("http://wiki.test/api/pages/Winterfell", { headers: { "if-none-match": etag } }), body, "public, s-maxage=5");
    expect(revalidated.status).toBe(304);
    expect(await revalidated.text()).toBe("");
    expect(revalidated.headers.get("cache-control")).toBe("public, s-maxage=5");
    expect(await first.json()).toEqual(body);
  });
});
