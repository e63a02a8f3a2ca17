import { type RateLimits, TokenBucket } from "../clients/token-bucket";

/** How often buckets that filled up again are dropped. */
const SWEEP_INTERVAL_MS = 10_000;

/**
 * One token bucket per client address, for requests that carry no token
 * (public page reads): who floods them is known only by where they come
 * from. A full bucket decides like no bucket, so full ones are dropped:
 * memory follows the addresses seen in the last burst / perSecond seconds,
 * not every address ever seen.
 */
export class AddressLimiter {
  private readonly buckets = new Map<string, TokenBucket>();
  private sweptAt: number;

  constructor(
    private readonly limits: RateLimits,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.sweptAt = now();
  }

  /** Spends one request of `address`: 0 when allowed, else the milliseconds until it would be. */
  take(address: string): number {
    const now = this.now();
    if (now - this.sweptAt >= SWEEP_INTERVAL_MS) this.sweep(now);
    let bucket = this.buckets.get(address);
    if (!bucket) {
      bucket = new TokenBucket(this.limits, this.now);
      this.buckets.set(address, bucket);
    }
    return bucket.take();
  }

  /** Addresses with a bucket: those that read recently enough that theirs is not full yet. */
  get size(): number {
    return this.buckets.size;
  }

  private sweep(now: number): void {
    this.sweptAt = now;
    for (const [address, bucket] of this.buckets) if (bucket.isFull()) this.buckets.delete(address);
  }
}
