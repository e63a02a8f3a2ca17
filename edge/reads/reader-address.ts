import { isIPv6 } from "node:net";

/**
 * Whom a public read is counted against: the client's IPv4 address, or the
 * /64 of its IPv6 address, since one subscriber usually gets a whole /64
 * (RFC 6177) and could otherwise take a fresh address per request.
 * The socket's address: edges take their clients directly (WebSockets),
 * with no proxy in front whose forwarded-for header they would believe.
 */
export function readerOf(address: string | undefined): string {
  if (!address) return "unknown";
  const bare = address.split("%")[0]!.toLowerCase();
  if (!isIPv6(bare)) return bare;
  // An IPv4 peer of a dual-stack socket.
  if (bare.startsWith("::ffff:") && bare.includes(".")) return bare.slice(7);
  const [head = "", tail] = bare.split("::");
  const headGroups = head ? head.split(":") : [];
  const tailGroups = tail ? tail.split(":") : [];
  const groups = tail === undefined ? headGroups : [...headGroups, ...Array<string>(8 - headGroups.length - tailGroups.length).fill("0"), ...tailGroups];
  return `${groups.slice(0, 4).map((group) => Number.parseInt(group, 16).toString(16)).join(":")}::/64`;
}
