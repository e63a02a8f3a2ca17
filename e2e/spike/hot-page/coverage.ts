import * as Y from "yjs";

/** A small number per Yjs client seen by this thread, shared by its receivers' coverage. */
const authorSlots = new Map<number, number>();
const slotOf = (client: number) => {
  let slot = authorSlots.get(client);
  if (slot === undefined) authorSlots.set(client, (slot = authorSlots.size));
  return slot;
};

/**
 * Clock ranges [from, to) per Yjs client that reached one receiver. A
 * receiver syncs the page first and then gets each author's updates
 * mostly in order, so what it has of an author is nearly always one range
 * from clock 0: kept as one number per author in a typed array (2,000
 * receivers × 2,000 authors as maps of arrays made the generator's heap,
 * and its garbage collector, the crowd's largest cost). Pieces that arrive
 * ahead of that range wait in `ahead` until it reaches them.
 */
export class Coverage {
  private contiguous = new Float64Array(64);
  private readonly ahead = new Map<number, [number, number][]>();

  add(client: number, from: number, to: number): void {
    if (to <= from) return;
    const slot = slotOf(client);
    if (slot >= this.contiguous.length) {
      const grown = new Float64Array(Math.max(slot + 1, this.contiguous.length * 2));
      grown.set(this.contiguous);
      this.contiguous = grown;
    }
    if (from > this.contiguous[slot]!) {
      const pieces = this.ahead.get(slot) ?? [];
      pieces.push([from, to]);
      this.ahead.set(slot, pieces);
      return;
    }
    this.contiguous[slot] = Math.max(this.contiguous[slot]!, to);
    const pieces = this.ahead.get(slot);
    if (!pieces) return;
    // The range grew: take in every waiting piece it now reaches.
    pieces.sort((a, b) => a[0] - b[0]);
    while (pieces.length > 0 && pieces[0]![0] <= this.contiguous[slot]!) this.contiguous[slot] = Math.max(this.contiguous[slot]!, pieces.shift()![1]);
    if (pieces.length === 0) this.ahead.delete(slot);
  }

  has(client: number, clock: number): boolean {
    const slot = authorSlots.get(client);
    if (slot === undefined) return false;
    if (clock < (this.contiguous[slot] ?? 0)) return true;
    return (this.ahead.get(slot) ?? []).some(([from, to]) => clock >= from && clock < to);
  }
}

/** Per author (Yjs client): the clock ranges [from, to) an update really carries. */
export type ClockRanges = [client: number, from: number, to: number][];

/**
 * The clock ranges an update holds, exactly: its structs, not the span
 * from each author's first to last clock. A merged update that lacks an
 * author's middle edit holds a Skip there (Y.mergeUpdates), and
 * Y.parseUpdateMeta's from..to would count the missing edit as delivered.
 * Adjacent structs of one author are joined.
 */
export function clockRanges(update: Uint8Array): ClockRanges {
  const ranges: ClockRanges = [];
  for (const struct of Y.decodeUpdate(update).structs) {
    if (struct instanceof Y.Skip) continue;
    const { client, clock } = struct.id;
    const last = ranges.at(-1);
    if (last && last[0] === client && last[2] === clock) last[2] = clock + struct.length;
    else ranges.push([client, clock, clock + struct.length]);
  }
  return ranges;
}
