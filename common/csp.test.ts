import { describe, expect, it } from "vitest";
import { contentSecurityPolicy, edgeConnectSources } from "./csp";

describe("the wiki pages' CSP", () => {
  it("runs scripts only by nonce, forbids framing and plugins, and lists the WebSocket sources", () => {
    const policy = contentSecurityPolicy({ nonce: "abc123", connectSources: ["ws://127.0.0.1:*", "ws://127.0.0.1:*"] });
    expect(policy).toBe(
      "default-src 'self'; script-src 'self' 'nonce-abc123' 'strict-dynamic'; style-src 'self' 'unsafe-inline'; " +
        "img-src 'self' data: blob: http: https:; font-src 'self'; connect-src 'self' ws://127.0.0.1:*; object-src 'none'; " +
        "base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
    );
    expect(policy).not.toMatch(/script-src[^;]*'unsafe-(inline|eval)'/u);
  });

  it("allows every host a live edge advertises on any port, for its WebSockets and its page reads, plus the operator's sources", () => {
    const sources = edgeConnectSources({
      edgeUrls: ["ws://127.0.0.1:3001", "ws://127.0.0.1:3002", "wss://us-east-a.wiki.example.org", "wss://[2001:db8::1]:8443", "not a url"],
      pageHost: "wiki.example.org",
      extra: ["wss://*.edges.example.org", "wss://x; script-src *"],
    });
    expect(sources).toEqual([
      "ws://127.0.0.1:*",
      "http://127.0.0.1:*",
      "wss://us-east-a.wiki.example.org:*",
      "https://us-east-a.wiki.example.org:*",
      "wss://[2001:db8::1]:*",
      "https://[2001:db8::1]:*",
      "wss://*.edges.example.org",
    ]);
  });

  it("with no edge known, allows the page's own host on any port", () => {
    expect(edgeConnectSources({ edgeUrls: [], pageHost: "127.0.0.1:3000", extra: [] })).toEqual(["ws://127.0.0.1:*", "wss://127.0.0.1:*", "http://127.0.0.1:*", "https://127.0.0.1:*"]);
  });
});
