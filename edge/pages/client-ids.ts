import { conflictingClients, firstConflict, introducedClients, markCompared, readStructs, type UpdateStructs, withoutClients } from "../../common/client-structs";
import type { ClientClaimList } from "../../protocol/envelope";
import type { Page } from "./page";

/**
 * Binding Yjs client ids to writers (issue 18), as a page judges what
 * reaches it. Yjs takes a (client, clock) pair to name one struct
 * everywhere; a writer who sends two different ones under one pair (to two
 * replicas, or a PoP and then another) would leave the replicas different
 * for good, each keeping the first it got. docs/security.md, "Yjs client ids".
 */

/** What was wrong with a client's update, for the client (y-protocols' permission denied) and the log. */
export interface ClientIdRefusal {
  /** "claimed": structs new to the page under another user's id; "conflict": other content at clocks the page holds. */
  reason: "claimed" | "conflict";
  clients: number[];
  message: string;
}

export type ClientIdVerdict =
  /** `update` is what may be applied: the whole, or without the structs `leftOut` names. */
  | { kind: "accepted"; update: Uint8Array; leftOut?: ClientIdRefusal }
  | { kind: "refused"; refusal: ClientIdRefusal };

/**
 * Checks a writer's update against the page: it may introduce structs only
 * under client ids that are unclaimed or its user's, and what it says about
 * clocks the page holds must be what the page holds (an honest resend).
 *
 * `whole`: a typed update is the writer's own doc's change and is refused
 * whole. A sync step 2 may carry other writers' structs (a client relays
 * what it has that the replica lacks, which is how Yjs recovers what a
 * replica lost): the structs the page refuses are left out and the rest
 * applies, so an honest client never loses its own edits over someone
 * else's.
 *
 * The unclaimed ids it introduces are then claimed for `user` where
 * `claims(client)` says the connection speaks for that id. Throws when the
 * update is not a whole, well-formed Yjs update: Yjs reads an update's
 * delete set only after integrating its structs, so a truncated one would
 * half-apply; this decodes it whole before anything is applied.
 */
export function checkClientIds(page: Page, update: Uint8Array, user: string, options: { whole: boolean; claims: (client: number) => boolean }): ClientIdVerdict {
  const structs = readStructs(update);
  if (structs.ranges.size === 0) return { kind: "accepted", update };
  const introduced = introducedClients(page.doc, structs);
  const foreign = introduced.filter((client) => page.claims.foreign([client], user));
  const refusal = foreign.length > 0 ? claimedRefusal(foreign, options.whole) : conflictRefusal(page, structs, options.whole);
  if (refusal && options.whole) return { kind: "refused", refusal };
  let accepted = update;
  let conflict: ClientIdRefusal | undefined;
  if (refusal) {
    // Left out in turn: without the foreign ones, what remains may still disagree with the page.
    const rest = withoutClients(update, refusal.clients);
    conflict = refusal.reason === "claimed" ? conflictRefusal(page, readStructs(rest), false) : undefined;
    accepted = conflict ? withoutClients(rest, conflict.clients) : rest;
  }
  const out = new Set([...(refusal?.clients ?? []), ...(conflict?.clients ?? [])]);
  page.claims.claim(
    introduced.filter((client) => !out.has(client) && options.claims(client)),
    user,
  );
  const leftOut = refusal && conflict ? { ...refusal, clients: [...out], message: `${refusal.message}; ${conflict.message}` } : refusal;
  return leftOut ? { kind: "accepted", update: accepted, leftOut } : { kind: "accepted", update: accepted };
}

function claimedRefusal(clients: number[], whole: boolean): ClientIdRefusal {
  const what = whole ? "nothing was applied" : "of a sync step 2, their structs were left out and the rest applied";
  return {
    reason: "claimed",
    clients,
    message: `Yjs client id${clients.length > 1 ? "s" : ""} ${clients.slice(0, 5).join(", ")} belong${clients.length > 1 ? "" : "s"} to another writer on this page: ${what}; use a client id of your own (a new Y.Doc)`,
  };
}

function conflictRefusal(page: Page, structs: UpdateStructs, whole: boolean): ClientIdRefusal | undefined {
  const first = firstConflict(page.doc, structs);
  if (!first) return undefined;
  const clients = whole ? [first.client] : conflictingClients(page.doc, structs);
  const what = whole ? "nothing was applied" : "of a sync step 2, those structs were left out and the rest applied";
  return {
    reason: "conflict",
    clients,
    message: `the update says something else than this page at Yjs client ${first.client}, clock ${first.clock}: ${what}; a (client, clock) pair names one struct for good`,
  };
}

/** What a remote update (a peer's, the log's, a relay) leaves to apply, and what was wrong with it. */
export interface ScreenedUpdate {
  /** The update without the structs of `conflicting` clients (the same bytes when there are none). */
  update: Uint8Array;
  /** Client ids whose structs said something else than the page: a concurrent reuse of one id in two places. */
  conflicting: number[];
  /** Client ids the sender knew as another user's than this page does: two first claims at once. */
  disputed: number[];
}

/**
 * A remote update, before it is applied: its claims are learnt (the first
 * one a page knows stays), and the structs of any client id that disagrees
 * with what the page holds are taken out, so that the page does not graft
 * the tail of another content onto its own. The rest applies as usual.
 */
export function screenRemote(page: Page, update: Uint8Array, claims: ClientClaimList): ScreenedUpdate {
  const disputed = claims.length > 0 ? page.claims.learn(claims) : [];
  let structs;
  try {
    structs = readStructs(update);
  } catch {
    // Not a valid update: applying it fails and is reported where it is applied.
    return { update, conflicting: [], disputed };
  }
  const conflicting = conflictingClients(page.doc, structs);
  return { update: conflicting.length > 0 ? withoutClients(update, conflicting) : update, conflicting, disputed };
}

/**
 * Takes the origin's state of a page (after a commit of another PoP) and
 * returns the client ids under which it disagrees with this page, each found
 * once: only the clocks not compared with the origin before are (the page's
 * `comparedWithOrigin`). `apply` applies the update whole all the same; the
 * disagreement is what is counted and logged. What the page took from the
 * update is the origin's own content, so it is marked compared as well: the
 * next pull asks the origin only for what lies past the marks
 * (origin-following.ts).
 */
export function takeFromOrigin(page: Page, update: Uint8Array, apply: () => void): number[] {
  let structs;
  try {
    structs = readStructs(update);
  } catch {
    // Not a valid update: applying it fails and is reported there.
    apply();
    return [];
  }
  const conflicting = conflictingClients(page.doc, structs, page.comparedWithOrigin);
  apply();
  markCompared(page.doc, structs, page.comparedWithOrigin);
  return conflicting;
}
