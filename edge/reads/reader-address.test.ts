import { describe, expect, it } from "vitest";
import { readerOf } from "./reader-address";

describe("whom a public read counts against", () => {
  it("is an IPv4 address as is, and the IPv4 peer of a dual-stack socket as that address", () => {
    expect(readerOf("203.0.113.7")).toBe("203.0.113.7");
    expect(readerOf("::ffff:203.0.113.7")).toBe("203.0.113.7");
  });

  it("is the /64 of an IPv6 address, however it is written", () => {
    expect(readerOf("2001:db8:1:2:aaaa::1")).toBe("2001:db8:1:2::/64");
    expect(readerOf("2001:0DB8:0001:0002:ffff:ffff:ffff:ffff")).toBe("2001:db8:1:2::/64");
    expect(readerOf("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(readerOf("fe80::1%eth0")).toBe("fe80:0:0:0::/64");
    expect(readerOf("::1")).toBe("0:0:0:0::/64");
  });

  it("is one shared key when the socket has no address (it closed)", () => {
    expect(readerOf(undefined)).toBe("unknown");
  });
});
