import type { Page } from "../pages/page";
import { wouldChange } from "../pages/update-check";
import { CloseCode } from "../../protocol/close-codes";
import { ProtocolError } from "../../protocol/messages";
import type { Identity } from "../../protocol/token";
import type { ConnectionHost } from "./connection-host";

/**
 * What becomes of a client's update message, decided before anything is
 * applied; the connection acts on it (acks, closes, holds back). Kept apart
 * from the connection so that the order of the checks reads in one place.
 */
export type WriteVerdict =
  /** Nothing the page lacks: acknowledged once what the page holds is durable. */
  | { kind: "unchanged" }
  /** y-protocols' "permission denied": not applied, the connection stays open. */
  | { kind: "denied"; reason: string }
  /** Refused and the connection closed, with a code stock clients reconnect on. */
  | { kind: "close"; code: number; reason: string }
  /** Over the edit rate: the same message comes again after `waitMs`. */
  | { kind: "held"; waitMs: number }
  | { kind: "apply"; update: Uint8Array };

export interface ClientWrite {
  page: Page;
  identity: Identity;
  /** The update as sent. */
  sent: Uint8Array;
  /** An "update" message (someone typing), not a sync step 2. */
  typed: boolean;
  /** Awareness client ids the connection announced: the ids a sync step 2 may claim. */
  awarenessIds: ReadonlySet<number>;
}

/**
 * The checks a client's update passes, in order. Throws a ProtocolError
 * (counted as a refused edit) when it is not a valid Yjs update. Spends an
 * edit of the user's rate only when every other check passed.
 */
export function judgeWrite(host: ConnectionHost, write: ClientWrite): WriteVerdict {
  const { page, identity, typed } = write;
  let update = write.sent;
  let refusal = host.refusal(identity, page);
  try {
    // A writer's update is checked to be whole and for its client ids
    // (applying one that changes nothing is harmless); a refused user's is
    // only checked for whether it would write at all, since y-websocket
    // clients send a sync step 2 on every connect, usually with nothing new.
    if (refusal === undefined) {
      // A typed update is the client's own doc's change: it speaks for the
      // new ids in it, and is refused whole, like a reader's write, when it
      // reuses another user's id or rewrites what the page holds: the
      // client hears why as y-protocols' "permission denied", and the
      // connection stays open. A sync step 2 may relay others' structs: it
      // claims only the ids the connection announced presence for (a stock
      // client's own doc.clientID), and what the page refuses of it is left
      // out (logged and counted by the replica), so that the client's own
      // edits still land. It is not told: they were not its own, and a
      // "permission denied" makes the wiki's editor read-only.
      const verdict = host.checkClientIds(page, update, identity.name, { whole: typed, claims: (client) => typed || write.awarenessIds.has(client) });
      if (verdict.kind === "refused") refusal = verdict.refusal.message;
      else {
        update = verdict.update;
      }
    } else if (!wouldChange(page.doc, update)) {
      return { kind: "unchanged" };
    }
  } catch (error) {
    host.recordEdit("refused");
    throw new ProtocolError(`update is not a valid Yjs update (${(error as Error).message})`, { cause: error });
  }
  // The sync step 2 every client sends on connect, with nothing the page
  // lacks: not applied, not counted as an edit, and acknowledged once
  // what the page holds is durable (a resend after a failed write).
  if (!typed && refusal === undefined && !wouldChange(page.doc, update)) return { kind: "unchanged" };
  // A reader keeps following the page.
  if (refusal) return { kind: "denied", reason: refusal };
  const full = host.overCapacity();
  // Memory stays bounded while the origin is away: the client keeps its
  // edit and resends it when it reconnects (sync step 2).
  if (full) return { kind: "close", code: CloseCode.overloaded, reason: full };
  const tooLarge = host.pageTooLarge(page, update);
  if (tooLarge) return { kind: "close", code: CloseCode.pageTooLarge, reason: tooLarge };
  // Held back, not refused: the same message comes here again when the
  // bucket has refilled, so its sequence number is taken only once it passes.
  const waitMs = host.editWaitMs(identity);
  if (waitMs > 0) return { kind: "held", waitMs };
  return { kind: "apply", update };
}
