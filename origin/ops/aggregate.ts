import type { Sample } from "./metrics-text";

/** One scrape of one replica's /metrics, or why it could not be read. */
export type Scrape =
  | { replica: string; at: number; ok: true; samples: Sample[] }
  | { replica: string; at: number; ok: false; error: string };

function matches(sample: Sample, name: string, labels: Record<string, string>): boolean {
  return sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value);
}

/** The sum of a metric's samples matching `labels` (a counter or gauge over its label sets). */
export function total(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const found = samples.filter((sample) => matches(sample, name, labels));
  return found.length === 0 ? undefined : found.reduce((sum, sample) => sum + sample.value, 0);
}

/**
 * Per-second rate of a counter between two scrapes. A counter that went
 * down was reset (the replica restarted): the rate counts from zero, as
 * Prometheus' rate() does. Undefined when either scrape failed or lacks it:
 * an unreadable replica is not a replica doing nothing.
 */
export function rate(previous: Scrape, current: Scrape, name: string, labels: Record<string, string> = {}): number | undefined {
  if (!previous.ok || !current.ok || current.at <= previous.at) return undefined;
  const before = total(previous.samples, name, labels);
  const after = total(current.samples, name, labels);
  if (before === undefined || after === undefined) return undefined;
  const increase = after >= before ? after - before : after;
  return increase / ((current.at - previous.at) / 1000);
}

/**
 * `rate`, for a counter that may not be exported yet: prom-client writes a
 * labelled counter's series only from its first increment, so in a scrape
 * that was read, a missing series is a count of 0 (a replica that has not
 * been edited yet does 0 edits/s, not "unknown"). A failed scrape still
 * gives undefined.
 */
export function counterRate(previous: Scrape, current: Scrape, name: string, labels: Record<string, string> = {}): number | undefined {
  if (!previous.ok || !current.ok || current.at <= previous.at) return undefined;
  const before = total(previous.samples, name, labels) ?? 0;
  const after = total(current.samples, name, labels) ?? 0;
  const increase = after >= before ? after - before : after;
  return increase / ((current.at - previous.at) / 1000);
}

/**
 * The q-quantile of a histogram from its cumulative buckets (`name_bucket`
 * with `le`), interpolating linearly inside the bucket as Prometheus'
 * histogram_quantile() does. Pass bucket deltas between two scrapes (see
 * `bucketIncrease`) for "over the last interval". Undefined with no
 * observations.
 */
export function quantile(buckets: { le: number; count: number }[], q: number): number | undefined {
  const sorted = [...buckets].sort((a, b) => a.le - b.le);
  const count = sorted.at(-1)?.count ?? 0;
  if (count === 0) return undefined;
  const rank = q * count;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const bucket of sorted) {
    if (bucket.count >= rank) {
      if (bucket.le === Infinity) return lowerBound;
      const inBucket = bucket.count - lowerCount;
      return inBucket === 0 ? bucket.le : lowerBound + ((bucket.le - lowerBound) * (rank - lowerCount)) / inBucket;
    }
    lowerBound = bucket.le;
    lowerCount = bucket.count;
  }
  return lowerBound;
}

/** A histogram's cumulative buckets in one scrape, summed over the label sets matching `labels`. */
export function buckets(samples: Sample[], name: string, labels: Record<string, string> = {}): { le: number; count: number }[] {
  const byLe = new Map<number, number>();
  for (const sample of samples) {
    if (!matches(sample, `${name}_bucket`, labels) || sample.labels.le === undefined) continue;
    const le = sample.labels.le === "+Inf" ? Infinity : Number(sample.labels.le);
    byLe.set(le, (byLe.get(le) ?? 0) + sample.value);
  }
  return [...byLe].map(([le, count]) => ({ le, count }));
}

/** Bucket counts observed between two scrapes (a reset counts from zero). */
export function bucketIncrease(
  previous: { le: number; count: number }[],
  current: { le: number; count: number }[],
): { le: number; count: number }[] {
  const before = new Map(previous.map((bucket) => [bucket.le, bucket.count]));
  const reset = current.some((bucket) => bucket.count < (before.get(bucket.le) ?? 0));
  return current.map((bucket) => ({ le: bucket.le, count: reset ? bucket.count : bucket.count - (before.get(bucket.le) ?? 0) }));
}
