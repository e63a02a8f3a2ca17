/**
 * Every edit of the peers bench inserts a marker such as `{12.345.152345}`:
 * client 12's 345th edit, sent 15,234.5 ms after the run's epoch. The id
 * (`12.345`) is unique, so after quiescence each edit can be looked for in
 * the stored page; the send time travels inside the marker, so a probe in
 * another worker thread times its delivery without a shared map.
 */

export interface TimedMarker {
  /** `client.seq` */
  id: string;
  /** Milliseconds after the run's epoch (0.1 ms resolution). */
  sentMs: number;
}

export function timedMarker(client: number, seq: number, sentMs: number): string {
  return `{${client}.${seq}.${Math.round(sentMs * 10)}}`;
}

const MARKER = /\{(\d+\.\d+)\.(\d+)\}/g;

/** The markers in a piece of text, in order. */
export function markersIn(text: string): TimedMarker[] {
  const found: TimedMarker[] = [];
  for (const match of text.matchAll(MARKER)) found.push({ id: match[1]!, sentMs: Number(match[2]) / 10 });
  return found;
}

/** Ids of the markers in `text`. */
export function markerIds(text: string): Set<string> {
  return new Set(markersIn(text).map((marker) => marker.id));
}
