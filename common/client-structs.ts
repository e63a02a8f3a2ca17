import * as Y from "yjs";

/**
 * What a Yjs update says under each client id, compared with what a
 * document already holds (issue 18). Yjs assumes a (client, clock) pair
 * names one struct everywhere: given a struct for a clock it holds, it keeps
 * its own and skips the rest without a word, and integrates only the part
 * past its clock. Two writers who send different structs under one pair to
 * two replicas therefore leave them different for good. The edge and the
 * origin share these checks so that both judge an update the same way.
 */

/** What one update carries: per client id, the clocks its structs start at and end before. */
export interface UpdateStructs {
  decoded: ReturnType<typeof Y.decodeUpdate>;
  /** Per client id, the lowest clock and the clock after the highest of its structs (GC and skips excluded). */
  ranges: Map<number, { from: number; to: number }>;
}

export function readStructs(update: Uint8Array): UpdateStructs {
  const decoded = Y.decodeUpdate(update);
  const ranges = new Map<number, { from: number; to: number }>();
  for (const struct of decoded.structs) {
    if (!(struct instanceof Y.Item)) continue;
    const { client, clock } = struct.id;
    const range = ranges.get(client);
    if (!range) ranges.set(client, { from: clock, to: clock + struct.length });
    else {
      range.from = Math.min(range.from, clock);
      range.to = Math.max(range.to, clock + struct.length);
    }
  }
  return { decoded, ranges };
}

/** Client ids under which `structs` adds clocks `doc` does not hold yet. */
export function introducedClients(doc: Y.Doc, structs: UpdateStructs): number[] {
  const clients: number[] = [];
  for (const [client, range] of structs.ranges) if (range.to > Y.getState(doc.store, client)) clients.push(client);
  return clients;
}

/** One (client, clock) the update and the document disagree on. */
export interface StructConflict {
  client: number;
  clock: number;
}

/**
 * The first clock where `structs` says something other than `doc` about a
 * clock `doc` already holds: another content, or another place (its left or
 * right neighbour when inserted, or its parent). Undefined when every clock
 * both hold agrees: an honest resend. Costs nothing unless the update
 * reaches below the document's state for some client, and then one step per
 * overlap of an item of each side.
 *
 * The comparison follows the clocks, not the item boundaries, because Yjs
 * splits and merges items freely: the n-th clock of an item is placed after
 * the (n-1)-th, whatever the boundaries. So where two items overlap, the
 * first common clock is compared whole and the rest by content alone
 * (firstDifference). Content the document has already
 * garbage-collected (deleted, then dropped) cannot be compared and is taken
 * as agreeing: it shows nowhere. `compared`: clocks already compared with
 * the same source, skipped.
 */
export function firstConflict(doc: Y.Doc, structs: UpdateStructs, compared?: ComparedClocks): StructConflict | undefined {
  for (const struct of structs.decoded.structs) {
    if (!(struct instanceof Y.Item)) continue;
    const { client, clock } = struct.id;
    const held = Y.getState(doc.store, client);
    const start = Math.max(clock, compared?.get(client) ?? 0);
    const end = Math.min(clock + struct.length, held);
    if (start >= end) continue;
    const ours = doc.store.clients.get(client);
    if (!ours) continue;
    let index = findStruct(ours, start);
    for (let at = start; at < end; ) {
      while (index < ours.length && ours[index]!.id.clock + ours[index]!.length <= at) index++;
      const mine = ours[index];
      if (!mine) break;
      const upTo = Math.min(end, mine.id.clock + mine.length);
      if (mine instanceof Y.Item) {
        const differs = firstDifference(doc, mine, struct, at, upTo);
        if (differs !== undefined) return { client, clock: differs };
      }
      at = upTo;
    }
  }
  return undefined;
}

/**
 * The first clock of [from, to), held by both items, where they disagree.
 * The first clock is compared whole. Past it both are inside their items,
 * where each clock's left neighbour is the clock before it on both sides
 * and the right neighbour and parent are the item's, already compared: only
 * the content is left, compared as one run (a profile of bench:edge gave
 * the clock-by-clock comparison 2.6% of the edges' CPU).
 */
function firstDifference(doc: Y.Doc, mine: Y.Item, theirs: Y.Item, from: number, to: number): number | undefined {
  const mineOffset = from - mine.id.clock;
  const theirOffset = from - theirs.id.clock;
  if (!sameClock(doc, mine, mineOffset, theirs, theirOffset)) return from;
  const rest = firstContentDifference(mine.content, mineOffset + 1, theirs.content, theirOffset + 1, to - from - 1);
  return rest === undefined ? undefined : from + 1 + rest;
}

/** Index of the first of `length` units where the contents disagree (see unitOf), or undefined. */
function firstContentDifference(mine: Y.Item["content"], mineOffset: number, theirs: Y.Item["content"], theirOffset: number, length: number): number | undefined {
  if (length <= 0) return undefined;
  if (mine instanceof Y.ContentString && theirs instanceof Y.ContentString) {
    const a = mine.str.slice(mineOffset, mineOffset + length);
    const b = theirs.str.slice(theirOffset, theirOffset + length);
    if (a === b) return undefined;
    for (let i = 0; i < length; i++) {
      if (a[i] !== b[i] && a[i] !== "\uFFFD" && b[i] !== "\uFFFD") return i;
    }
    return undefined;
  }
  for (let i = 0; i < length; i++) {
    const a = unitOf(mine, mineOffset + i);
    const b = unitOf(theirs, theirOffset + i);
    if (a !== undefined && b !== undefined && a !== b) return i;
  }
  return undefined;
}

/**
 * Per client id, the clock below which a document's structs were already
 * compared with one source's (the origin's, say). A (client, clock) pair
 * names one struct for good on both sides, so a comparison once made holds:
 * a source that sends a whole page again and again (the origin's state,
 * after every commit of another PoP) is compared only where it is new.
 * Without it, a hot page of 1,000 writers spent 14% of each edge's CPU
 * comparing, clock by clock, a page it already held (hot-page profile,
 * docs/benchmarks.md).
 */
export type ComparedClocks = Map<number, number>;

/** Marks what `structs` and `doc` both hold as compared (see ComparedClocks), after firstConflict or conflictingClients looked at it. */
export function markCompared(doc: Y.Doc, structs: UpdateStructs, compared: ComparedClocks): void {
  for (const [client, range] of structs.ranges) {
    const upTo = Math.min(range.to, Y.getState(doc.store, client));
    if (upTo > (compared.get(client) ?? 0)) compared.set(client, upTo);
  }
}

/** Every client id under which `structs` disagrees with `doc` somewhere (see firstConflict); `compared`: clocks to skip. */
export function conflictingClients(doc: Y.Doc, structs: UpdateStructs, compared?: ComparedClocks): number[] {
  const found: number[] = [];
  let rest = structs;
  for (let conflict = firstConflict(doc, rest, compared); conflict; conflict = firstConflict(doc, rest, compared)) {
    found.push(conflict.client);
    const skip = new Set(found);
    rest = { ...rest, decoded: { ...rest.decoded, structs: rest.decoded.structs.filter((struct) => !skip.has(struct.id.client)) } };
  }
  return found;
}

/** `update` without any struct of `clients` (its delete set kept): what is left to apply once they are refused. */
export function withoutClients(update: Uint8Array, clients: Iterable<number>): Uint8Array {
  const beyond = new Map<number, number>();
  // Clocks are below 2^53; a state vector past every clock drops them all.
  for (const client of clients) beyond.set(client, Number.MAX_SAFE_INTEGER);
  return Y.diffUpdate(update, Y.encodeStateVector(beyond));
}

/** Index of the struct holding `clock` in a client's sorted structs (Yjs's own findIndexSS is not exported). */
function findStruct(structs: (Y.Item | Y.GC)[], clock: number): number {
  let low = 0;
  let high = structs.length - 1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    const struct = structs[middle]!;
    if (clock < struct.id.clock) high = middle - 1;
    else if (clock >= struct.id.clock + struct.length) low = middle + 1;
    else return middle;
  }
  return low;
}

function sameClock(doc: Y.Doc, mine: Y.Item, mineOffset: number, theirs: Y.Item, theirOffset: number): boolean {
  if (!Y.compareIDs(leftOf(mine, mineOffset), leftOf(theirs, theirOffset))) return false;
  if (!Y.compareIDs(mine.rightOrigin, theirs.rightOrigin)) return false;
  if (mineOffset === 0 && theirOffset === 0 && !mine.origin && !mine.rightOrigin) {
    // Only then does an update name the parent (it follows from a neighbour otherwise).
    if (parentKey(doc, mine.parent) !== parentKey(doc, theirs.parent) || (mine.parentSub ?? null) !== (theirs.parentSub ?? null)) return false;
  }
  return firstContentDifference(mine.content, mineOffset, theirs.content, theirOffset, 1) === undefined;
}

/** The struct a clock was inserted after: the item's origin for its first clock, the clock before it otherwise. */
function leftOf(item: Y.Item, offset: number): Y.ID | null {
  return offset === 0 ? item.origin : Y.createID(item.id.client, item.id.clock + offset - 1);
}

function idKey(id: Y.ID | null): string {
  return id ? `${id.client}:${id.clock}` : "";
}

/** A document item's parent is its type; a decoded struct's is a root type's name or the parent item's id. */
function parentKey(doc: Y.Doc, parent: unknown): string {
  if (typeof parent === "string") return `root:${parent}`;
  if (parent instanceof Y.ID) return idKey(parent);
  if (parent instanceof Y.AbstractType) {
    if (parent._item) return idKey(parent._item.id);
    for (const [name, type] of doc.share) if (type === parent) return `root:${name}`;
  }
  return "";
}

/**
 * One clock's content as a comparable string, or undefined when it is not
 * known (garbage-collected). A string's clock is one UTF-16 unit; Yjs
 * replaces a surrogate pair it splits with U+FFFD on both halves, which
 * therefore matches anything.
 */
function unitOf(content: Y.Item["content"], offset: number): string | undefined {
  if (content instanceof Y.ContentDeleted) return undefined;
  if (content instanceof Y.ContentString) {
    const unit = content.str[offset];
    return unit === "\uFFFD" ? undefined : `s${unit}`;
  }
  if (content instanceof Y.ContentAny || content instanceof Y.ContentJSON) return `a${JSON.stringify(content.arr[offset])}`;
  if (content instanceof Y.ContentFormat) return `f${content.key}=${JSON.stringify(content.value)}`;
  if (content instanceof Y.ContentEmbed) return `e${JSON.stringify(content.embed)}`;
  if (content instanceof Y.ContentBinary) return `b${Buffer.from(content.content).toString("base64")}`;
  if (content instanceof Y.ContentType) {
    const type = content.type as Y.AbstractType<unknown> & { nodeName?: string };
    return `t${type.constructor.name}:${type.nodeName ?? ""}`;
  }
  if (content instanceof Y.ContentDoc) return `d${content.doc?.guid ?? ""}`;
  return `?${content.constructor.name}`;
}
