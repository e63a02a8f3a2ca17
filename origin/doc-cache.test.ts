import { describe, expect, it } from "vitest";
import * as Y from "yjs";
import { DocCache } from "./doc-cache";

const entry = (seq: bigint, bytes = 100) => ({ doc: new Y.Doc(), seq, bytes });

describe("the origin's document cache", () => {
  it("gives a page's document only at the version asked for, and only once", () => {
    const cache = new DocCache(1_000_000);
    cache.put("a", entry(3n));
    expect(cache.take("a", 2n)).toBeUndefined();
    expect(cache.size).toBe(0);
    cache.put("a", entry(3n));
    expect(cache.take("a", 3n)?.seq).toBe(3n);
    expect(cache.take("a", 3n)).toBeUndefined();
  });

  it("keeps the newer of two versions put for one page", () => {
    const cache = new DocCache(1_000_000);
    cache.put("a", entry(5n));
    const older = entry(4n);
    cache.put("a", older);
    expect(older.doc.isDestroyed).toBe(true);
    expect(cache.take("a", 5n)?.seq).toBe(5n);
  });

  it("holds a taken page until it is put back or released, and lets waiters go then", async () => {
    const cache = new DocCache(1_000_000);
    cache.put("a", entry(3n));
    expect(cache.isHeld("a")).toBe(false);
    const taken = cache.take("a", 3n)!;
    expect(cache.isHeld("a")).toBe(true);
    let settled = false;
    const waiting = cache.settled("a").then(() => (settled = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(settled).toBe(false);
    cache.put("a", { ...taken, seq: 4n });
    await waiting;
    expect(cache.isHeld("a")).toBe(false);
    expect(cache.versionOf("a")).toBe(4n);
    cache.take("a", 4n);
    cache.release("a");
    expect(cache.isHeld("a")).toBe(false);
    expect(cache.versionOf("a")).toBeUndefined();
  });

  it("stops waiting for a hold that never ends after its bound", async () => {
    const cache = new DocCache(1_000_000);
    cache.put("a", entry(1n));
    cache.take("a", 1n);
    const started = Date.now();
    await cache.settled("a", 50);
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    expect(cache.isHeld("a")).toBe(true);
  });

  it("evicts the least recently put past its memory bound", () => {
    const cache = new DocCache(100 * 14 * 2);
    const first = entry(1n);
    cache.put("a", first);
    cache.put("b", entry(1n));
    cache.put("c", entry(1n));
    expect(first.doc.isDestroyed).toBe(true);
    expect(cache.take("a", 1n)).toBeUndefined();
    expect(cache.take("c", 1n)).toBeDefined();
  });
});
