/**
 * A connection's budget for the messages that make the edge encode the page
 * for it: a sync step 1 answers with the page's diff against the client's
 * state vector (the whole page for an empty one), an awareness query with
 * every present client's state. An honest client sends one of each when it
 * connects; a loop of them is a cheap way to make the edge work. A token
 * bucket per connection: `burst` at once, then `perSecond`.
 */
export interface ReadLimits {
  perSecond: number;
  burst: number;
}

export class ReadBudget {
  private tokens: number;
  private refilledAt: number;

  constructor(
    private readonly limits: ReadLimits,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = limits.burst;
    this.refilledAt = now();
  }

  /** Spends one read: 0 when it may be answered now, else the milliseconds until it may. */
  take(): number {
    const now = this.now();
    this.tokens = Math.min(this.limits.burst, this.tokens + ((now - this.refilledAt) / 1000) * this.limits.perSecond);
    this.refilledAt = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - this.tokens) / this.limits.perSecond) * 1000);
  }
}
