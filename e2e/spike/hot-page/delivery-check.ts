import * as Y from "yjs";
import type { Coverage } from "./coverage";

/** One receiver of the hot page, as the delivery check sees it. */
export interface CheckedReceiver {
  /** Who it is, for the examples: "client 12 (follower, hot-1)". */
  label: string;
  /** The exact clock ranges that reached it (its own edits included). */
  coverage: Coverage;
  /**
   * Probes only: the page as built by applying, in order, everything the
   * receiver got. An edit counts as delivered to a probe only if it is
   * integrated there too (its author's state passed its clock), so an
   * update that reached it but could not be applied is not delivered.
   */
  doc?: Y.Doc;
  /** Why applying what it got failed, if it did. */
  applyError?: string;
}

export interface DeliveryCheck {
  /** Acknowledged edits missing at a receiver, counted per receiver. */
  undelivered: number;
  receiversMissing: number;
  receiversChecked: number;
  examples: string[];
}

/**
 * Which acknowledged edits never reached each receiver. `acked` is every
 * acknowledged edit by author (Yjs client id) as start clocks. Every
 * receiver passed in is checked, open or closed: one the edge closed that
 * did not catch up lacks what it missed, and that counts.
 */
export function undeliveredOf(receivers: Iterable<CheckedReceiver>, acked: readonly (readonly [number, readonly number[]])[], exampleLimit = 5): DeliveryCheck {
  const result: DeliveryCheck = { undelivered: 0, receiversMissing: 0, receiversChecked: 0, examples: [] };
  for (const receiver of receivers) {
    result.receiversChecked += 1;
    const state = receiver.doc ? Y.decodeStateVector(Y.encodeStateVector(receiver.doc)) : undefined;
    if (receiver.applyError && result.examples.length < exampleLimit) result.examples.push(`${receiver.label} could not apply what it got: ${receiver.applyError}`);
    let missing = 0;
    for (const [author, clocks] of acked) {
      const integrated = state?.get(author) ?? 0;
      for (const clock of clocks) {
        if (receiver.coverage.has(author, clock) && (state === undefined || clock < integrated)) continue;
        missing += 1;
        if (result.examples.length < exampleLimit) result.examples.push(`${receiver.label} lacks ${author}:${clock}`);
      }
    }
    result.undelivered += missing;
    if (missing > 0) result.receiversMissing += 1;
  }
  return result;
}
