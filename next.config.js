/** @type {import('next').NextConfig} */
const nextConfig = {
  // These load WASM, worker threads or native bindings at run time, or (yjs
  // and its helpers) must be the very module instance the process's edges
  // and origin use (Yjs warns, and instanceof checks fail, with two copies):
  // Node requires them as they are instead of bundling them.
  serverExternalPackages: ["@electric-sql/pglite", "pglite-prisma-adapter", "pg", "pino", "@prisma/adapter-pg", "yjs", "lib0", "y-protocols"],
  poweredByHeader: false,
  // forbidden() and app/forbidden.tsx: /ops answers 403 to anyone but an admin.
  experimental: { authInterrupts: true },
  // Every answer, pages, API and static files alike (the pages' CSP is set per request in proxy.ts).
  async headers() {
    return [
      {
        source: "/:path*",
        headers: [
          { key: "X-Content-Type-Options", value: "nosniff" },
          { key: "Referrer-Policy", value: "strict-origin-when-cross-origin" },
          // For browsers older than CSP's frame-ancestors.
          { key: "X-Frame-Options", value: "DENY" },
        ],
      },
    ];
  },
  async rewrites() {
    // Folders starting with "." are not routes in the app router.
    // /metrics is where Prometheus looks by default (docs/ops/prometheus.yml).
    return [
      { source: "/.well-known/jwks.json", destination: "/api/jwks" },
      { source: "/metrics", destination: "/api/metrics" },
    ];
  },
};

export default nextConfig;
