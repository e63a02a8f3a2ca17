import * as decoding from "lib0/decoding";
import * as encoding from "lib0/encoding";

/**
 * One client's entry in a y-protocols awareness update (awareness.js:
 * varUint count, then per client varUint id, varUint clock, varString JSON
 * state; a removed client's state is the JSON `null`). The state is kept as
 * its UTF-8 bytes: the edge measures and forwards it, and leaves parsing to
 * y-protocols' applyAwarenessUpdate.
 */
export interface AwarenessEntry {
  clientId: number;
  clock: number;
  state: Uint8Array;
}

const NULL_STATE = new TextEncoder().encode("null");

/** Reads every entry of an awareness update. Throws on a malformed update. */
export function readAwarenessEntries(update: Uint8Array): AwarenessEntry[] {
  const decoder = decoding.createDecoder(update);
  const count = decoding.readVarUint(decoder);
  const entries: AwarenessEntry[] = [];
  for (let i = 0; i < count; i++) {
    const clientId = decoding.readVarUint(decoder);
    const clock = decoding.readVarUint(decoder);
    // A varString is a varUint8Array of UTF-8: reading the bytes skips the decode.
    entries.push({ clientId, clock, state: decoding.readVarUint8Array(decoder) });
  }
  return entries;
}

/** Encodes entries as one awareness update, in the order given. */
export function writeAwarenessEntries(entries: Iterable<AwarenessEntry>): Uint8Array {
  const list = [...entries];
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, list.length);
  for (const entry of list) {
    encoding.writeVarUint(encoder, entry.clientId);
    encoding.writeVarUint(encoder, entry.clock);
    encoding.writeVarUint8Array(encoder, entry.state);
  }
  return encoding.toUint8Array(encoder);
}

/** Whether an entry says its client left (y-protocols' removal: state `null`). */
export function isRemoval(entry: AwarenessEntry): boolean {
  return entry.state.byteLength === NULL_STATE.byteLength && entry.state.every((byte, i) => byte === NULL_STATE[i]);
}

/** The client ids an awareness update speaks for. Throws on a malformed update. */
export function awarenessClientIds(update: Uint8Array): number[] {
  return readAwarenessEntries(update).map((entry) => entry.clientId);
}
