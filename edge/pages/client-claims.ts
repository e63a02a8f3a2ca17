/**
 * Which user each Yjs client id of a page belongs to (issue 18). The first
 * user to introduce structs under a client id claims it on that page; from
 * then on only that user may add structs under it. The claims travel with
 * the updates to the PoP's peers, through its log, and with the cross-PoP
 * relay, so that every replica that learns a struct also learns whose it is,
 * and learns the same first claim when the claims come one after another.
 */
export class ClientClaims {
  private readonly owners = new Map<number, string>();

  get size(): number {
    return this.owners.size;
  }

  owner(client: number): string | undefined {
    return this.owners.get(client);
  }

  /** The first of `clients` claimed by another user than `user`, with its owner, or undefined. */
  foreign(clients: Iterable<number>, user: string): { client: number; owner: string } | undefined {
    for (const client of clients) {
      const owner = this.owners.get(client);
      if (owner !== undefined && owner !== user) return { client, owner };
    }
    return undefined;
  }

  /** Claims the unclaimed ones of `clients` for `user`. */
  claim(clients: Iterable<number>, user: string): void {
    for (const client of clients) if (!this.owners.has(client)) this.owners.set(client, user);
  }

  /**
   * Claims learnt from a peer, the log or a relay: the first one stays.
   * Answers the client ids another replica gave to someone else (two first
   * claims at once in two places, see docs/security.md).
   */
  learn(claims: Iterable<readonly [number, string]>): number[] {
    const disputed: number[] = [];
    for (const [client, user] of claims) {
      const owner = this.owners.get(client);
      if (owner === undefined) this.owners.set(client, user);
      else if (owner !== user) disputed.push(client);
    }
    return disputed;
  }

  /**
   * The origin's claims: they replace what this page believed. The origin
   * orders the flushes of every PoP, so its first claim is the one all PoPs
   * end up agreeing on.
   */
  settle(claims: Iterable<readonly [number, string]>): void {
    for (const [client, user] of claims) this.owners.set(client, user);
  }

  /** The claims of `clients` that are known, to send along with an update holding their structs. */
  of(clients: Iterable<number>): [number, string][] {
    const claims: [number, string][] = [];
    for (const client of clients) {
      const owner = this.owners.get(client);
      if (owner !== undefined) claims.push([client, owner]);
    }
    return claims;
  }

  all(): [number, string][] {
    return [...this.owners];
  }
}
