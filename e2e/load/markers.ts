/**
 * Every edit of the load generator inserts a unique marker such as
 * `[w3e17n42]` (worker 3, its editor 17, that editor's 42nd edit), so that
 * after quiescence each acknowledged edit can be found exactly once in the
 * origin's text: missing means lost, twice means duplicated.
 */

export interface MarkerId {
  worker: number;
  editor: number;
  n: number;
}

/** `tag` (lower-case letters, may be empty) keeps markers of separate runs on shared pages apart. */
export function markerOf(id: MarkerId, tag = ""): string {
  return `[${tag}w${id.worker}e${id.editor}n${id.n}]`;
}

export function checkMarkerTag(tag: string): string {
  if (!/^[a-z]{0,16}$/.test(tag)) throw new Error(`load: a marker tag must be 0 to 16 lower-case letters, got ${JSON.stringify(tag)}`);
  return tag;
}

/**
 * A random position between two markers of `text`, never inside one: the
 * start, the end, or just after a `]`. (On a page that also holds human
 * text, "after a `]`" may fall inside a [[wiki link]], never inside a marker.)
 */
export function positionBetweenMarkers(text: string, random: () => number = Math.random): number {
  if (text.length === 0) return 0;
  let boundaries = 1; // the start
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === CLOSE) boundaries += 1;
  if (text.charCodeAt(text.length - 1) !== CLOSE) boundaries += 1; // the end, when no `]` ends the text
  let pick = Math.floor(random() * boundaries);
  if (pick === 0) return 0;
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) === CLOSE && --pick === 0) return i + 1;
  }
  return text.length;
}

const CLOSE = "]".charCodeAt(0);

/** How many times each bracketed token (`[...]` without nested brackets) occurs in `text`. */
export function countMarkers(text: string, into: Map<string, number> = new Map()): Map<string, number> {
  for (const match of text.matchAll(/\[[^[\]]*\]/g)) into.set(match[0], (into.get(match[0]) ?? 0) + 1);
  return into;
}

export interface MarkerCheck {
  /** Acknowledged markers checked. */
  acked: number;
  /** Acknowledged markers missing from the texts. */
  lost: number;
  /** Acknowledged markers found more than once. */
  duplicated: number;
  /** Markers of edits sent but never acknowledged that nonetheless arrived (allowed). */
  unackedPresent: number;
  /** Unacknowledged markers found more than once (never allowed either). */
  unackedDuplicated: number;
  /** Lost acknowledged markers by page slug (pages with none are left out). */
  lostByPage: Record<string, number>;
  /** A few examples of each fault, for the report. */
  examples: { lost: string[]; duplicated: string[] };
}

/**
 * Checks that every acknowledged marker of each page is in that page's text
 * exactly once. `texts` and `acked` are keyed by page slug.
 */
export function checkMarkers(
  texts: ReadonlyMap<string, string>,
  acked: ReadonlyMap<string, readonly string[]>,
  unacked: ReadonlyMap<string, readonly string[]> = new Map(),
): MarkerCheck {
  const result: MarkerCheck = { acked: 0, lost: 0, duplicated: 0, unackedPresent: 0, unackedDuplicated: 0, lostByPage: {}, examples: { lost: [], duplicated: [] } };
  const slugs = new Set([...acked.keys(), ...unacked.keys()]);
  for (const slug of slugs) {
    const counts = countMarkers(texts.get(slug) ?? "");
    for (const marker of acked.get(slug) ?? []) {
      result.acked += 1;
      const count = counts.get(marker) ?? 0;
      if (count === 0) {
        result.lost += 1;
        result.lostByPage[slug] = (result.lostByPage[slug] ?? 0) + 1;
        if (result.examples.lost.length < 10) result.examples.lost.push(`${slug} ${marker}`);
      } else if (count > 1) {
        result.duplicated += 1;
        if (result.examples.duplicated.length < 10) result.examples.duplicated.push(`${slug} ${marker} x${count}`);
      }
    }
    for (const marker of unacked.get(slug) ?? []) {
      const count = counts.get(marker) ?? 0;
      if (count > 0) result.unackedPresent += 1;
      if (count > 1) result.unackedDuplicated += 1;
    }
  }
  return result;
}
