import { describe, expect, it } from "vitest";
import { AddressLimiter } from "./address-limiter";

describe("one token bucket per client address", () => {
  it("refuses an address past its burst, with the wait until its next token, and leaves other addresses alone", () => {
    let now = 0;
    const limiter = new AddressLimiter({ perSecond: 2, burst: 3 }, () => now);
    expect([1, 2, 3].map(() => limiter.take("a"))).toEqual([0, 0, 0]);
    expect(limiter.take("a")).toBe(500);
    expect(limiter.take("b")).toBe(0);
    now += 500;
    expect(limiter.take("a")).toBe(0);
  });

  it("forgets the addresses whose buckets filled up again, and only those", () => {
    let now = 0;
    const limiter = new AddressLimiter({ perSecond: 1, burst: 100 }, () => now);
    limiter.take("quiet");
    now = 5_000;
    for (let i = 0; i < 100; i++) limiter.take("busy");
    expect(limiter.size).toBe(2);
    // Past the sweep interval: "quiet" has been full for a while, "busy" is 90 tokens short.
    now = 15_000;
    limiter.take("new");
    expect(limiter.size).toBe(2);
    expect(limiter.take("busy")).toBe(0);
  });
});
