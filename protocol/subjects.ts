/**
 * Broker subjects, built in one place. Everything a PoP's replicas say is
 * under `ww.<pop>.`; the origin's announcements under `ww.origin.`. A slug
 * may hold ".", "*" or ">" (NATS token separators and wildcards), so it
 * travels as base64url, whose alphabet NATS leaves alone.
 */
const ROOT = "ww";

export function subjectToken(value: string): string {
  return Buffer.from(value, "utf8").toString("base64url");
}

export function fromSubjectToken(token: string): string {
  return Buffer.from(token, "base64url").toString("utf8");
}

export const subjects = {
  pageUpdates: (pop: string, slug: string) => `${ROOT}.${subjectToken(pop)}.page.${subjectToken(slug)}.update`,
  pageSync: (pop: string, slug: string) => `${ROOT}.${subjectToken(pop)}.page.${subjectToken(slug)}.sync`,
  /**
   * Presence is shared by every PoP holding the page, not only within one:
   * editors on two continents see each other's cursors.
   */
  pageAwareness: (slug: string) => `${ROOT}.presence.${subjectToken(slug)}`,
  /**
   * Clients' updates, relayed live to every PoP holding the page, so that
   * co-editors on two PoPs see each other's keystrokes within milliseconds
   * rather than a flush interval. Best effort: durability and convergence
   * still go through each PoP's flush to the origin.
   */
  pageRelay: (slug: string) => `${ROOT}.relay.${subjectToken(slug)}`,
  pageFlushed: (pop: string, slug: string) => `${ROOT}.${subjectToken(pop)}.page.${subjectToken(slug)}.flushed`,
  /** Where a replica's peers send their anti-entropy answers. */
  replicaInbox: (pop: string, replica: string) => `${ROOT}.${subjectToken(pop)}.inbox.${subjectToken(replica)}`,
  members: (pop: string) => `${ROOT}.${subjectToken(pop)}.members`,
  /** Every PoP's heartbeats, for the origin's view of the edges. */
  allMembers: () => `${ROOT}.*.members`,
  /** The durable log of a PoP (`pop` durability): one subject per page. */
  logPage: (pop: string, slug: string) => `${ROOT}.${subjectToken(pop)}.log.${subjectToken(slug)}`,
  logAll: (pop: string) => `${ROOT}.${subjectToken(pop)}.log.>`,
  /** JetStream stream names allow base64url's alphabet. */
  logStream: (pop: string) => `WEIRWOOD_LOG_${subjectToken(pop)}`,
  pageChanged: () => `${ROOT}.origin.changed`,
  /** An admin blocked or unblocked an account (protocol/blocks.ts): every replica of every PoP listens. */
  userBlocks: () => `${ROOT}.origin.blocks`,
  /** An admin deleted or undeleted a page (protocol/deletions.ts): every replica of every PoP listens. */
  pageDeletions: () => `${ROOT}.origin.deletions`,
  /** Asking any replica, in any PoP, for the origin's signing keys it holds (edge/auth/key-sharing.ts). */
  signingKeys: () => `${ROOT}.keys`,
} as const;
