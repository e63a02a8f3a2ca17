import { scrapeMetrics } from "./bench-system";

/**
 * A Prometheus histogram of the edges, summed over the replicas and taken
 * over one measured window (the difference of two scrapes), so that each
 * run's figures are its own: the edges' counters grow over every run of a
 * level (warm-up, open loop, saturation).
 */
export type Buckets = Map<number, number>;

/** Cumulative bucket counts of `name` (a histogram, any labels), summed over `httpUrls`; a replica that does not answer counts nothing. */
export async function scrapeHistogram(httpUrls: readonly string[], name: string): Promise<Buckets> {
  const pattern = new RegExp(`^${name}_bucket\\{.*le="([^"]+)"`);
  const summed: Buckets = new Map();
  for (const url of httpUrls) {
    const metrics = await scrapeMetrics(url).catch(() => new Map<string, number>());
    for (const [metric, value] of metrics) {
      const le = pattern.exec(metric)?.[1];
      if (le === undefined) continue;
      const bound = le === "+Inf" ? Number.POSITIVE_INFINITY : Number(le);
      summed.set(bound, (summed.get(bound) ?? 0) + value);
    }
  }
  return summed;
}

export function bucketsSince(before: Buckets, after: Buckets): Buckets {
  return new Map([...after].map(([le, count]) => [le, count - (before.get(le) ?? 0)]));
}

export interface HistogramQuantiles {
  /** Upper bucket bounds in ms; Infinity when the quantile is past the largest finite bound. */
  p50Ms: number;
  p99Ms: number;
  largestBucketMs: number;
  count: number;
}

export function quantilesOf(buckets: Buckets): HistogramQuantiles {
  const sorted = [...buckets].map(([le, count]) => ({ le, count })).sort((a, b) => a.le - b.le);
  const count = sorted.at(-1)?.count ?? 0;
  const quantile = (q: number) => (count === 0 ? Number.NaN : (sorted.find((bucket) => bucket.count >= q * count)?.le ?? Number.NaN) * 1000);
  const largest = (sorted.filter((bucket) => Number.isFinite(bucket.le)).at(-1)?.le ?? Number.NaN) * 1000;
  return { p50Ms: quantile(0.5), p99Ms: quantile(0.99), largestBucketMs: largest, count };
}
