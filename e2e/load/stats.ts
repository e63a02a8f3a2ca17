/** Percentiles as the load reports state them: nearest-rank over the sorted sample. */

export interface Percentiles {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export function percentileOf(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

/** Summarizes a sample (it is sorted in place). Times are rounded to µs. */
export function percentiles(values: Float64Array | number[]): Percentiles {
  const sorted = values instanceof Float64Array ? values.sort() : Float64Array.from(values).sort();
  const round = (value: number) => (Number.isNaN(value) ? Number.NaN : Math.round(value * 1000) / 1000);
  return {
    count: sorted.length,
    p50: round(percentileOf(sorted, 50)),
    p90: round(percentileOf(sorted, 90)),
    p99: round(percentileOf(sorted, 99)),
    max: round(sorted.length === 0 ? Number.NaN : sorted[sorted.length - 1]!),
  };
}

/** A growable Float64Array, for samples too many to keep as JS arrays cheaply. */
export class Sample {
  private values = new Float64Array(1024);
  length = 0;

  push(value: number): void {
    if (this.length === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.length++] = value;
  }

  toArray(): Float64Array {
    return this.values.slice(0, this.length);
  }
}
