import { conflictingClients, firstConflict, introducedClients, readStructs, withoutClients } from "../../common/client-structs";
import type { ClientClaimList } from "../../protocol/envelope";
import type { Page } from "./page";

/**
 * Binding Yjs client ids to writers (issue 18), as a page judges what
 * reaches it. Yjs takes a (client, clock) pair to name one struct
 * everywhere; a writer who sends two different ones under one pair (to two
 * replicas, or a PoP and then another) would leave the replicas different
 * for good, each keeping the first it got. docs/security.md, "Yjs client ids".
 */

/** Why a client's update is refused, or undefined. */
export type ClientIdRefusal = { reason: "claimed" | "conflict"; client: number; message: string };

/**
 * Checks a writer's update against the page: it may introduce structs only
 * under client ids that are unclaimed or its user's, and what it says about
 * clocks the page holds must be what the page holds (an honest resend). On
 * success, the unclaimed ids it introduces are claimed for `user` when
 * `claims(client)` says the connection speaks for that id. Throws when the
 * update is not a whole, well-formed Yjs update: Yjs reads an update's
 * delete set only after integrating its structs, so a truncated one would
 * half-apply; this decodes it whole before anything is applied.
 */
export function checkClientIds(page: Page, update: Uint8Array, user: string, claims: (client: number) => boolean): ClientIdRefusal | undefined {
  const structs = readStructs(update);
  if (structs.ranges.size === 0) return undefined;
  const introduced = introducedClients(page.doc, structs);
  const foreign = page.claims.foreign(introduced, user);
  if (foreign) {
    return {
      reason: "claimed",
      client: foreign.client,
      message: `Yjs client id ${foreign.client} belongs to another writer on this page: nothing was applied; use a client id of your own (a new Y.Doc)`,
    };
  }
  const conflict = firstConflict(page.doc, structs);
  if (conflict) {
    return {
      reason: "conflict",
      client: conflict.client,
      message: `the update says something else than this page at Yjs client ${conflict.client}, clock ${conflict.clock}: nothing was applied; a (client, clock) pair names one struct for good`,
    };
  }
  page.claims.claim(
    introduced.filter((client) => claims(client)),
    user,
  );
  return undefined;
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
