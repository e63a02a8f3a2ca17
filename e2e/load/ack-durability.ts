import { Durability, type DurabilityLevel } from "../../protocol/messages";

/** Acknowledgements received, by the durability each one reported (PROTOCOL.md, "Acknowledgements"). */
export type AcksByDurability = Partial<Record<DurabilityLevel, number>>;

export function countAck(into: AcksByDurability, durability: DurabilityLevel): void {
  into[durability] = (into[durability] ?? 0) + 1;
}

export function addAcks(into: AcksByDurability, from: AcksByDurability): AcksByDurability {
  for (const [level, count] of Object.entries(from) as [DurabilityLevel, number][]) into[level] = (into[level] ?? 0) + count;
  return into;
}

/**
 * How many acks claimed less than `level`, the durability under test: an
 * edge running at `pop` that acknowledges at `edge` has told its clients
 * something weaker than they were promised. An ack at a stronger level
 * (`origin` when `pop` was asked) breaks no promise.
 */
export function acksBelow(acks: AcksByDurability, level: DurabilityLevel): number {
  let below = 0;
  for (const [reported, count] of Object.entries(acks) as [DurabilityLevel, number][]) {
    if (Durability[reported] < Durability[level]) below += count;
  }
  return below;
}
