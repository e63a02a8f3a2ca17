import * as Y from "yjs";

/**
 * Whether applying `update` would change `doc`: structs it does not have, or
 * deletions of items it has not deleted. A y-websocket client answers the
 * edge's sync step 1 with a step 2 even when it has nothing new (the whole
 * delete set travels every time), so a reader's step 2 is refused only when
 * it would really write.
 */
export function wouldChange(doc: Y.Doc, update: Uint8Array): boolean {
  const decoded = Y.decodeUpdate(update);
  for (const struct of decoded.structs) {
    if (struct.id.clock + struct.length > Y.getState(doc.store, struct.id.client)) return true;
  }
  if (decoded.ds.clients.size === 0) return false;
  const ours = Y.createDeleteSetFromStructStore(doc.store);
  return !Y.equalDeleteSets(Y.mergeDeleteSets([ours, decoded.ds]), ours);
}
