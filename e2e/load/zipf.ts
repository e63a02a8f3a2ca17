/**
 * Page popularity for the load generator: the page of rank i gets a share
 * proportional to 1 / i^s (Zipf; s = 1 is the classic web-popularity skew:
 * with 20 pages the hottest gets 28% of the editors, the 20th 1.4%).
 */

export function zipfShares(pages: number, exponent = 1): number[] {
  if (!Number.isInteger(pages) || pages < 1) throw new Error(`zipf: pages must be a positive integer, got ${pages}`);
  if (!(exponent >= 0)) throw new Error(`zipf: the exponent must be >= 0, got ${exponent}`);
  const weights = Array.from({ length: pages }, (_, i) => 1 / (i + 1) ** exponent);
  const total = weights.reduce((a, b) => a + b, 0);
  return weights.map((weight) => weight / total);
}

/**
 * How many of `count` items each page gets, by the largest-remainder method:
 * exact shares, rounded so that the counts add up to `count`.
 */
export function zipfCounts(count: number, pages: number, exponent = 1): number[] {
  const shares = zipfShares(pages, exponent);
  const exact = shares.map((share) => share * count);
  const counts = exact.map(Math.floor);
  let left = count - counts.reduce((a, b) => a + b, 0);
  const byRemainder = exact.map((value, i) => ({ i, remainder: value - Math.floor(value) })).sort((a, b) => b.remainder - a.remainder);
  for (const { i } of byRemainder) {
    if (left-- <= 0) break;
    counts[i]! += 1;
  }
  return counts;
}

/**
 * The page index of each of `count` editors: Zipf counts, in a shuffled
 * order (seeded, so a run is reproducible) so that spreading editors
 * round-robin over PoPs and replicas gives every page editors on each.
 */
export function zipfAssignment(count: number, pages: number, options: { exponent?: number; seed?: number } = {}): number[] {
  const counts = zipfCounts(count, pages, options.exponent ?? 1);
  return seededShuffle(
    counts.flatMap((n, page) => Array.from({ length: n }, () => page)),
    options.seed ?? 1,
  );
}

/** Fisher-Yates with a seeded generator: the same order for the same seed. Shuffles `items` in place. */
export function seededShuffle<T>(items: T[], seed: number): T[] {
  const random = seededRandom(seed);
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/** mulberry32: a small, fast, seedable PRNG; good enough for shuffling load. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
