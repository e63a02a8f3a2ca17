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
