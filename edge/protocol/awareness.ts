import * as decoding from "lib0/decoding";

/**
 * The client ids an awareness update speaks for (y-protocols awareness.js:
 * varUint count, then per client varUint id, varUint clock, varString JSON
 * state). Throws on a malformed update.
 */
export function awarenessClientIds(update: Uint8Array): number[] {
  const decoder = decoding.createDecoder(update);
  const count = decoding.readVarUint(decoder);
  const ids: number[] = [];
  for (let i = 0; i < count; i++) {
    ids.push(decoding.readVarUint(decoder));
    decoding.readVarUint(decoder);
    decoding.readVarString(decoder);
  }
  return ids;
}
