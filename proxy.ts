import { type NextRequest, NextResponse } from "next/server";
import { contentSecurityPolicy, CSP_NONCE_HEADER, edgeConnectSources } from "./common/csp";

/**
 * Every wiki page gets a fresh script nonce and its Content-Security-Policy
 * (common/csp.ts). Next.js reads the nonce from the request's CSP header and
 * puts it on its own script tags; the pages are rendered per request anyway.
 * A page shared caches keep comes with its nonce from the host instead
 * (CSP_NONCE_HEADER), so that its HTML is the same for everyone.
 */

// Read by name at run time, not inlined at build time.
const CONNECT_SRC_VARIABLE = "ORIGIN_CSP_CONNECT_SRC";

// The origin this process hosts, as origin/runtime.ts keeps it; only its live edges are read here.
const ORIGIN_KEY = Symbol.for("weirwood.origin");
type HostedOrigin = { edges?: { list(): { url: string }[] } };

async function liveEdgeUrls(): Promise<string[]> {
  const hosted = (globalThis as { [ORIGIN_KEY]?: Promise<HostedOrigin> })[ORIGIN_KEY];
  if (!hosted) return [];
  try {
    return (await hosted).edges?.list().map((edge) => edge.url) ?? [];
  } catch {
    return [];
  }
}

export async function proxy(request: NextRequest): Promise<NextResponse> {
  const given = request.headers.get(CSP_NONCE_HEADER);
  // A nonce is base64: anything else would write into the policy.
  const nonce = given && /^[A-Za-z0-9+/]{16,}={0,2}$/u.test(given) ? given : Buffer.from(crypto.getRandomValues(new Uint8Array(18))).toString("base64");
  const connectSources = edgeConnectSources({
    edgeUrls: await liveEdgeUrls(),
    pageHost: request.headers.get("host") ?? request.nextUrl.host,
    extra: (process.env[CONNECT_SRC_VARIABLE] ?? "").split(/[\s,]+/u).filter(Boolean),
  });
  const policy = contentSecurityPolicy({ nonce, connectSources, development: process.env.NODE_ENV === "development" });
  const headers = new Headers(request.headers);
  headers.set("content-security-policy", policy);
  const response = NextResponse.next({ request: { headers } });
  response.headers.set("content-security-policy", policy);
  return response;
}

export const config = {
  matcher: [
    {
      // Pages only: API answers, static files and prefetches are no documents.
      source: "/((?!api|_next/static|_next/image|favicon.ico|healthz|readyz|metrics|\\.well-known).*)",
      missing: [
        { type: "header", key: "next-router-prefetch" },
        { type: "header", key: "purpose", value: "prefetch" },
      ],
    },
  ],
};
