import { describe, expect, it } from "vitest";
import { advertisedUrls } from "./advertised-urls";

describe("the addresses a replica advertises", () => {
  it("are where it listens when that is a real address", () => {
    expect(advertisedUrls("127.0.0.1", 3001, undefined, "pop1")).toEqual({ ws: "ws://127.0.0.1:3001", http: "http://127.0.0.1:3001" });
    expect(advertisedUrls("::1", 3001, undefined, "pop1")).toEqual({ ws: "ws://[::1]:3001", http: "http://[::1]:3001" });
  });

  it("name the machine, not 0.0.0.0 or ::, when it listens on every interface", () => {
    expect(advertisedUrls("0.0.0.0", 3001, undefined, "edge-eu-1")).toEqual({ ws: "ws://edge-eu-1:3001", http: "http://edge-eu-1:3001" });
    expect(advertisedUrls("::", 3002, undefined, "edge-eu-1").http).toBe("http://edge-eu-1:3002");
  });

  it("give clients the public URL when one is set, and the ops view the direct one", () => {
    expect(advertisedUrls("0.0.0.0", 3001, "wss://eu.wiki.example", "edge-eu-1")).toEqual({ ws: "wss://eu.wiki.example", http: "http://edge-eu-1:3001" });
  });
});
