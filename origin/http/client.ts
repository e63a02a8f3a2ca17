import { normalizeAddress } from "../config";

/**
 * Set by Weirwood's own HTTP servers (origin/server/next-host.ts and
 * node-adapter.ts) to the socket's peer address, overwriting whatever a
 * client sent under that name: a route handler's Request has no socket.
 */
export const PEER_HEADER = "x-weirwood-peer";

/** Who sent a request and how, as far as this origin can trust it. */
export interface ClientInfo {
  /** The client's IP address, for per-address limits; "unknown" when no server of ours stamped it. */
  address: string;
  /** Whether the browser reached us over HTTPS (then the session cookie is `Secure`). */
  https: boolean;
  /** scheme://host[:port] the browser used: what its `Origin` header says for our own pages. */
  ownOrigin: string;
}

function lastOf(header: string | null): string | undefined {
  return header
    ?.split(",")
    .map((part) => part.trim())
    .filter(Boolean)
    .at(-1);
}

/**
 * The socket's peer is the client, unless it is one of `trustedProxies`: then
 * X-Forwarded-For is read from the right, skipping trusted proxies, and the
 * first other address is the client (addresses to its left are whatever the
 * client claimed). X-Forwarded-Proto and -Host count only from a trusted proxy.
 */
export function clientOf(request: Request, trustedProxies: readonly string[]): ClientInfo {
  const url = new URL(request.url);
  const peer = normalizeAddress(request.headers.get(PEER_HEADER) ?? "") || "unknown";
  const trusted = new Set(trustedProxies);
  let address = peer;
  let protocol = url.protocol.replace(/:$/, "");
  let host = request.headers.get("host") ?? url.host;
  if (trusted.has(peer)) {
    const forwarded = (request.headers.get("x-forwarded-for") ?? "").split(",").map(normalizeAddress).filter(Boolean);
    address = forwarded.findLast((hop) => !trusted.has(hop)) ?? forwarded[0] ?? peer;
    protocol = lastOf(request.headers.get("x-forwarded-proto"))?.toLowerCase() ?? protocol;
    host = lastOf(request.headers.get("x-forwarded-host")) ?? host;
  }
  const https = protocol === "https";
  let ownOrigin: string;
  try {
    ownOrigin = new URL(`${https ? "https" : "http"}://${host}`).origin;
  } catch {
    ownOrigin = url.origin;
  }
  return { address, https, ownOrigin };
}
