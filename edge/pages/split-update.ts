import * as encoding from "lib0/encoding";
import * as Y from "yjs";

type Struct = Y.Item | Y.GC | Y.Skip;
type DeleteSet = ReturnType<typeof Y.decodeUpdate>["ds"];

/**
 * Splits a Yjs update (v1) into parts of at most about `maxBytes` each that,
 * applied in order, make the same document as the whole. Used to send one
 * page's diff over the origin's body limit in several flush batches.
 *
 * Each client's structs stay in clock order and are cut into contiguous
 * runs; a struct larger than the budget (Yjs merges a user's consecutive
 * typing into one item, so a pasted megabyte is one struct) is cut the way
 * Yjs splits an item: the right piece starts one clock later, with the left
 * piece's last character as its origin. The delete set goes in the last
 * part. A part whose structs depend on another client's later part is held
 * by Yjs as pending and integrated when that part arrives, so the whole
 * integrates once every part is in, whatever the interleaving of clients.
 *
 * One struct that cannot be cut (a binary or an embed over the budget) makes
 * a part over the budget on its own.
 */
export function splitUpdate(update: Uint8Array, maxBytes: number): Uint8Array[] {
  if (update.byteLength <= maxBytes) return [update];
  const { structs, ds } = Y.decodeUpdate(update);
  // A client's header (count, id, first clock) costs at most 3 varUints.
  const budget = Math.max(64, maxBytes - 64);
  const parts: Uint8Array[] = [];
  let groups = new Map<number, Struct[]>();
  let size = 0;
  const close = () => {
    if (groups.size === 0) return;
    parts.push(encodePart(groups));
    groups = new Map();
    size = 0;
  };
  for (const struct of structs) {
    for (const piece of cut(struct, Math.floor(budget / 2))) {
      const bytes = encodedSize(piece) + (groups.has(piece.id.client) ? 0 : 30);
      if (size > 0 && size + bytes > budget) close();
      const group = groups.get(piece.id.client);
      if (group) group.push(piece);
      else groups.set(piece.id.client, [piece]);
      size += bytes;
    }
  }
  // The delete set closes the last part, or comes alone when it does not fit.
  const deletes = encodeDeleteSetOnly(ds);
  if (size > 0 && size + deletes.byteLength > budget) close();
  if (groups.size > 0) parts.push(encodePart(groups, ds));
  else if (ds.clients.size > 0) parts.push(deletes);
  return parts;
}

/** Cuts a struct into pieces of about `budget` encoded bytes, when its content can be cut. */
function cut(struct: Struct, budget: number): Struct[] {
  if (!(struct instanceof Y.Item) || struct.length <= 1) return [struct];
  const size = encodedSize(struct);
  if (size <= budget) return [struct];
  const content = struct.content;
  let chunk: number;
  if (content instanceof Y.ContentString) {
    // UTF-8 takes at most 3 bytes per UTF-16 code unit.
    chunk = Math.max(1, Math.floor(budget / 3));
  } else if (content instanceof Y.ContentAny || content instanceof Y.ContentJSON) {
    chunk = Math.max(1, Math.floor((struct.length * budget) / size));
  } else {
    // Deleted content is a length; formats, types, embeds and binaries are one clock each.
    return [struct];
  }
  const pieces: Struct[] = [];
  let left = struct;
  while (left.length > chunk) {
    let at = chunk;
    if (left.content instanceof Y.ContentString) {
      // Never between the halves of a surrogate pair (Yjs would write U+FFFD).
      const code = left.content.str.charCodeAt(at - 1);
      if (code >= 0xd800 && code <= 0xdbff) at = at > 1 ? at - 1 : at + 1;
      if (at >= left.length) break;
    }
    const { client, clock } = left.id;
    const right = new Y.Item(
      Y.createID(client, clock + at),
      null,
      Y.createID(client, clock + at - 1),
      null,
      left.rightOrigin,
      left.parent,
      left.parentSub,
      left.content.splice(at),
    );
    left.length = at;
    pieces.push(left);
    left = right;
  }
  pieces.push(left);
  return pieces;
}

function encodedSize(struct: Struct): number {
  const encoder = new Y.UpdateEncoderV1();
  struct.write(encoder, 0);
  return encoding.length(encoder.restEncoder);
}

/** The v1 update format: per client, its struct count, id and first clock, then the structs; then a delete set. */
function encodePart(groups: Map<number, Struct[]>, ds?: DeleteSet): Uint8Array {
  const encoder = new Y.UpdateEncoderV1();
  encoding.writeVarUint(encoder.restEncoder, groups.size);
  for (const [client, structs] of groups) {
    encoding.writeVarUint(encoder.restEncoder, structs.length);
    encoder.writeClient(client);
    encoding.writeVarUint(encoder.restEncoder, structs[0]!.id.clock);
    for (const struct of structs) struct.write(encoder, 0);
  }
  writeDeleteSet(encoder, ds);
  return encoder.toUint8Array();
}

function encodeDeleteSetOnly(ds: DeleteSet): Uint8Array {
  const encoder = new Y.UpdateEncoderV1();
  encoding.writeVarUint(encoder.restEncoder, 0);
  writeDeleteSet(encoder, ds);
  return encoder.toUint8Array();
}

function writeDeleteSet(encoder: Y.UpdateEncoderV1, ds: DeleteSet | undefined): void {
  const clients = ds ? [...ds.clients] : [];
  encoding.writeVarUint(encoder.restEncoder, clients.length);
  for (const [client, items] of clients) {
    encoder.resetDsCurVal();
    encoding.writeVarUint(encoder.restEncoder, client);
    encoding.writeVarUint(encoder.restEncoder, items.length);
    for (const item of items) {
      encoder.writeDsClock(item.clock);
      encoder.writeDsLen(item.len);
    }
  }
}
