/**
 * The edges a browser may connect to, as GET /api/edges lists them, and the
 * PoP this browser chose (a cookie, so that the server and every tab agree).
 * In real life the PoP follows geography; here the header's selector picks it.
 */

export interface EdgeEndpoint {
  pop: string;
  replica: string;
  /** WebSocket base URL, e.g. ws://127.0.0.1:4101; the page's slug is appended. */
  url: string;
  /** "draining": shutting down, take no new clients. Absent means up. */
  state?: string;
}

export const POP_COOKIE = "weirwood_pop";
/** Sent by the PoP selector when the choice changes; open editors reconnect. */
export const POP_CHANGED_EVENT = "weirwood:pop-changed";

function isEdgeEndpoint(value: unknown): value is EdgeEndpoint {
  if (typeof value !== "object" || value === null) return false;
  const { pop, replica, url } = value as Record<string, unknown>;
  return typeof pop === "string" && typeof replica === "string" && typeof url === "string" && /^wss?:\/\//u.test(url);
}

/**
 * GET /api/edges, without the replicas that are draining. An origin that
 * knows no edges (503: it hears no broker) or has no such endpoint answers none.
 */
export async function fetchEdges(fetchImpl: typeof fetch = (input, init) => fetch(input, init)): Promise<EdgeEndpoint[]> {
  const response = await fetchImpl("/api/edges", { cache: "no-store" });
  if (response.status === 404 || response.status === 503) return [];
  if (!response.ok) throw new Error(`GET /api/edges answered ${response.status}`);
  const body: unknown = await response.json();
  const list = Array.isArray(body) ? body : (body as { edges?: unknown })?.edges;
  if (!Array.isArray(list)) throw new Error("GET /api/edges: expected a list of { pop, replica, url }");
  return list.filter(isEdgeEndpoint).filter((edge) => edge.state !== "draining");
}

/** The PoPs in the order the origin lists them. */
export function popsOf(edges: readonly EdgeEndpoint[]): string[] {
  return [...new Set(edges.map((edge) => edge.pop))];
}

/** The preferred PoP when it has edges, else the first PoP listed. */
export function choosePop(edges: readonly EdgeEndpoint[], preferred: string | undefined): string | undefined {
  const pops = popsOf(edges);
  return preferred && pops.includes(preferred) ? preferred : pops[0];
}

export function readPopCookie(cookie: string = typeof document === "undefined" ? "" : document.cookie): string | undefined {
  const entry = cookie
    .split(";")
    .map((part) => part.trim())
    .find((part) => part.startsWith(`${POP_COOKIE}=`));
  return entry ? decodeURIComponent(entry.slice(POP_COOKIE.length + 1)) || undefined : undefined;
}

export function writePopCookie(pop: string): void {
  document.cookie = `${POP_COOKIE}=${encodeURIComponent(pop)}; Path=/; Max-Age=${365 * 24 * 3600}; SameSite=Lax`;
  window.dispatchEvent(new CustomEvent(POP_CHANGED_EVENT, { detail: pop }));
}
