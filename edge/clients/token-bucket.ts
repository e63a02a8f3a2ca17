/**
 * A token bucket: `burst` at once, then `perSecond`. What a connection may
 * send of one kind of message before it is held back (its awareness
 * updates, its sync steps 1 and awareness queries).
 */
export interface RateLimits {
  perSecond: number;
  burst: number;
}

export class TokenBucket {
  private tokens: number;
  private refilledAt: number;

  constructor(
    private readonly limits: RateLimits,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = limits.burst;
    this.refilledAt = now();
  }

  /** Spends one token: 0 when there was one, else the milliseconds until there is (at least 1). */
  take(): number {
    this.refill();
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return this.waitMs();
  }

  /** Milliseconds until a token is there (0: now), spending none. */
  untilNext(): number {
    this.refill();
    return this.tokens >= 1 ? 0 : this.waitMs();
  }

  /** Whether it holds its whole burst: it then decides exactly as a new bucket would. */
  isFull(): boolean {
    this.refill();
    return this.tokens >= this.limits.burst;
  }

  private refill(): void {
    const now = this.now();
    this.tokens = Math.min(this.limits.burst, this.tokens + ((now - this.refilledAt) / 1000) * this.limits.perSecond);
    this.refilledAt = now;
  }

  private waitMs(): number {
    return Math.max(1, Math.ceil(((1 - this.tokens) / this.limits.perSecond) * 1000));
  }
}
