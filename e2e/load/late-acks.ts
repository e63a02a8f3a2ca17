import { checkMarkers } from "./markers";

/**
 * Acks that arrive after a load's drain ended: not in the run's figures
 * (latency, throughput), but acknowledged all the same, so the loss check
 * must cover them. The load generator's close() answers them.
 */

/**
 * The markers acknowledged after the drain, against the origin's text: each
 * must be there exactly once. Waits up to `timeoutMs` for the last of them
 * to be flushed (they were acknowledged last).
 */
export async function checkLateAcks(
  lateAcked: Map<string, string[]>,
  originTexts: (slugs: string[]) => Promise<Map<string, string>>,
  timeoutMs: number,
): Promise<{ count: number; lost: number; duplicated: number }> {
  const count = [...lateAcked.values()].reduce((total, markers) => total + markers.length, 0);
  if (count === 0) return { count, lost: 0, duplicated: 0 };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { lost, duplicated } = checkMarkers(await originTexts([...lateAcked.keys()]), lateAcked);
    if ((lost === 0 && duplicated === 0) || Date.now() > deadline) return { count, lost, duplicated };
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** Moves late-acknowledged markers from the unacknowledged ones (allowed to be lost) to the acknowledged (checked). */
export function countLateAsAcked(markers: { acked: Map<string, string[]>; unacked: Map<string, string[]> }, lateAcked: Map<string, string[]>): number {
  let moved = 0;
  for (const [slug, late] of lateAcked) {
    const lateSet = new Set(late);
    markers.unacked.set(slug, (markers.unacked.get(slug) ?? []).filter((marker) => !lateSet.has(marker)));
    markers.acked.set(slug, [...(markers.acked.get(slug) ?? []), ...late]);
    moved += late.length;
  }
  return moved;
}
