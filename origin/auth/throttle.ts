/**
 * Counts events (failed logins, registrations) per key within a sliding
 * window: once a key has `limit` events younger than the window, it waits
 * until the oldest leaves it. In the origin process's memory: each origin
 * process of a deployment counts on its own (docs/security.md).
 */
export class Throttle {
  private readonly events = new Map<string, number[]>();

  constructor(
    /** Events a key may have within the window; 0: no limit. */
    private readonly limit: number,
    private readonly windowMs: number,
    /** Keys kept at most; past it the least recently used go (one attacker's many names must not fill memory). */
    private readonly maxKeys = 100_000,
  ) {}

  /** Seconds until `key` may act again; 0 when it may now. */
  retryAfterSeconds(key: string, now = Date.now()): number {
    if (this.limit === 0) return 0;
    const times = this.live(key, now);
    if (times.length < this.limit) return 0;
    return (times[times.length - this.limit]! + this.windowMs - now) / 1000;
  }

  record(key: string, now = Date.now()): void {
    if (this.limit === 0) return;
    const times = this.live(key, now);
    times.push(now);
    // Only the newest `limit` matter for the wait.
    if (times.length > this.limit) times.splice(0, times.length - this.limit);
    this.events.delete(key);
    this.events.set(key, times);
    if (this.events.size > this.maxKeys) this.events.delete(this.events.keys().next().value!);
  }

  clear(key: string): void {
    this.events.delete(key);
  }

  private live(key: string, now: number): number[] {
    const times = (this.events.get(key) ?? []).filter((time) => now - time < this.windowMs);
    if (times.length === 0) this.events.delete(key);
    return times;
  }
}
