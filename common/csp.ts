/**
 * The request header through which the host hands proxy.ts the nonce of a
 * page shared caches keep (origin/server/cacheable-views.ts): derived from
 * the page's ETag, so that one tag is one body. The host removes any a
 * client sent.
 */
export const CSP_NONCE_HEADER = "x-weirwood-csp-nonce";

/**
 * The wiki pages' Content-Security-Policy (proxy.ts sets it per request).
 *
 * - Scripts run only with this response's nonce, which Next.js puts on its
 *   own tags; what those load is trusted through 'strict-dynamic'. An inline
 *   script that slipped into a page (a sanitizer bug) does not run.
 * - Styles may be inline: CodeMirror and the peers' cursor colours set style
 *   attributes, and a style cannot run code.
 * - The editor talks to edges on other ports, or other hosts, over
 *   WebSocket: `connectSources` lists them.
 * - Page images may come from any http(s) host, as the Markdown allows.
 * - No site may frame the wiki (clickjacking).
 */
export function contentSecurityPolicy(options: { nonce: string; connectSources: readonly string[]; development?: boolean }): string {
  const directives: [string, ...string[]][] = [
    ["default-src", "'self'"],
    // `next dev` rebuilds server error stacks with eval; a production build never evals.
    ["script-src", "'self'", `'nonce-${options.nonce}'`, "'strict-dynamic'", ...(options.development ? ["'unsafe-eval'"] : [])],
    ["style-src", "'self'", "'unsafe-inline'"],
    ["img-src", "'self'", "data:", "blob:", "http:", "https:"],
    ["font-src", "'self'"],
    ["connect-src", "'self'", ...new Set(options.connectSources)],
    ["object-src", "'none'"],
    ["base-uri", "'self'"],
    ["form-action", "'self'"],
    ["frame-ancestors", "'none'"],
  ];
  return directives.map((directive) => directive.join(" ")).join("; ");
}

/**
 * Where the editor may open WebSockets, and the page view fetch an edge's
 * read of the page (components/page/nearest-edge-text.ts, over HTTP(S) on
 * the same port): every host a live edge advertises,
 * any port (replicas come and go on new ports while a page is open), and the
 * operator's extra sources for edges that may appear on other hosts later.
 * With no edge known yet, the page's own host on any port (the embedded default).
 */
export function edgeConnectSources(options: { edgeUrls: readonly string[]; pageHost: string; extra: readonly string[] }): string[] {
  const sources = new Set<string>();
  for (const url of options.edgeUrls) {
    try {
      const parsed = new URL(url);
      if (parsed.protocol === "ws:" || parsed.protocol === "wss:") {
        sources.add(`${parsed.protocol}//${parsed.hostname}:*`).add(`${parsed.protocol === "wss:" ? "https:" : "http:"}//${parsed.hostname}:*`);
      }
    } catch {
      // Not a URL: an edge misconfigured its EDGE_PUBLIC_URL; it is unreachable anyway.
    }
  }
  if (sources.size === 0) {
    const host = options.pageHost.replace(/:\d+$/u, "");
    sources.add(`ws://${host}:*`).add(`wss://${host}:*`).add(`http://${host}:*`).add(`https://${host}:*`);
  }
  // A ";" would start another directive: an operator's typo must not rewrite the policy.
  for (const source of options.extra) if (!/[;\s'"]/u.test(source)) sources.add(source);
  return [...sources];
}
