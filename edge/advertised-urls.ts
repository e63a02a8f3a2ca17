import { hostname } from "node:os";

/** Addresses a socket may bind to that no peer can connect to. */
const WILDCARDS = new Set(["0.0.0.0", "::", "[::]", ""]);

/**
 * Where clients and the origin's ops view reach this replica, as it says in
 * its heartbeats. An edge listening on every interface (`EDGE_HOST=0.0.0.0`)
 * must not advertise 0.0.0.0: nobody else can connect there, so clients
 * listed by GET /api/edges could not reach it and the ops view would show it
 * as unreachable. It advertises the machine's host name instead, unless
 * `publicUrl` (a proxy, TLS) says where clients go.
 */
export function advertisedUrls(host: string, port: number, publicUrl: string | undefined, machine = hostname()): { ws: string; http: string } {
  const reachable = WILDCARDS.has(host) ? machine : host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
  return { ws: publicUrl ?? `ws://${reachable}:${port}`, http: `http://${reachable}:${port}` };
}
