import { describe, expect, it } from "vitest";
import type { Identity } from "../../protocol/token";
import {
  createEditRateLimiter,
  DEFAULT_EDIT_RATE_LIMITS,
  type EditRateLimiter,
  NEW_ACCOUNT_AGE_MS,
  rateClassOf,
} from "./rate-limit";

const T0 = Date.parse("2026-11-22T20:00:00Z");
const DAY = 24 * 3600 * 1000;

function user(userId: string, role: Identity["role"], ageMs: number): Identity {
  return { userId, name: userId, role, createdAt: new Date(T0 - ageMs) };
}

const newcomer = user("newcomer", "editor", 1 * DAY);
const veteran = user("veteran", "editor", 400 * DAY);
const admin = user("admin", "admin", 60_000);

/** Sends `count` edits at `now` and answers how many were allowed. */
function burst(limiter: EditRateLimiter, identity: Identity, count: number, now: number): number {
  let allowed = 0;
  for (let i = 0; i < count; i += 1) if (limiter.take(identity, now).allowed) allowed += 1;
  return allowed;
}

/** Sends edits at `perSecond` for `seconds`, from `start`; answers how many were refused. */
function steady(limiter: EditRateLimiter, identity: Identity, perSecond: number, seconds: number, start: number): number {
  let refused = 0;
  for (let i = 0; i < perSecond * seconds; i += 1) {
    if (!limiter.take(identity, start + (i * 1000) / perSecond).allowed) refused += 1;
  }
  return refused;
}

describe("rate classes", () => {
  it("accounts younger than 4 days are new, older ones established, admins admin whatever their age", () => {
    expect(rateClassOf(user("a", "editor", NEW_ACCOUNT_AGE_MS - 1), T0)).toBe("new");
    expect(rateClassOf(user("b", "editor", NEW_ACCOUNT_AGE_MS), T0)).toBe("established");
    expect(rateClassOf(user("c", "admin", 0), T0)).toBe("admin");
    expect(NEW_ACCOUNT_AGE_MS).toBe(4 * DAY);
  });

  it("new accounts get a smaller burst and refill than established editors, admins more", () => {
    const { new: fresh, established, admin: admins } = DEFAULT_EDIT_RATE_LIMITS;
    expect(fresh.burst).toBeLessThan(established.burst);
    expect(fresh.perSecond).toBeLessThan(established.perSecond);
    expect(established.burst).toBeLessThan(admins.burst);
    expect(established.perSecond).toBeLessThan(admins.perSecond);
  });
});

describe("edit rate limiter", () => {
  it("each class may send exactly its burst at once", () => {
    const limiter = createEditRateLimiter({ now: () => T0 });

    expect(burst(limiter, newcomer, 1_000, T0)).toBe(DEFAULT_EDIT_RATE_LIMITS.new.burst);
    expect(burst(limiter, veteran, 1_000, T0)).toBe(DEFAULT_EDIT_RATE_LIMITS.established.burst);
    expect(burst(limiter, admin, 1_000, T0)).toBe(DEFAULT_EDIT_RATE_LIMITS.admin.burst);
  });

  it("a refused edit says how long until the next one is allowed, and that is exact", () => {
    const limiter = createEditRateLimiter({ now: () => T0, limits: { new: { burst: 3, perSecond: 4 } } });
    burst(limiter, newcomer, 3, T0);

    const refused = limiter.take(newcomer, T0);

    expect(refused).toEqual({ allowed: false, retryAfterMs: 250 });
    expect(limiter.take(newcomer, T0 + 249).allowed).toBe(false);
    expect(limiter.take(newcomer, T0 + 250)).toEqual({ allowed: true });
  });

  it("a drained bucket refills at perSecond, and never beyond its burst", () => {
    const limiter = createEditRateLimiter({ now: () => T0 });
    burst(limiter, newcomer, 1_000, T0);

    expect(burst(limiter, newcomer, 1_000, T0 + 2_000)).toBe(2 * DEFAULT_EDIT_RATE_LIMITS.new.perSecond);
    expect(burst(limiter, newcomer, 1_000, T0 + 2_000 + 3_600_000)).toBe(DEFAULT_EDIT_RATE_LIMITS.new.burst);
  });

  it("a new account typing fast (15 updates a second) for ten minutes is never refused", () => {
    const limiter = createEditRateLimiter({ now: () => T0 });

    expect(steady(limiter, newcomer, 15, 600, T0)).toBe(0);
  });

  it("a new account may hold a key down (30 updates a second) for 3 seconds", () => {
    const limiter = createEditRateLimiter({ now: () => T0 });

    expect(steady(limiter, newcomer, 30, 3, T0)).toBe(0);
  });

  it("an established editor may hold a key down (30 updates a second) for a minute", () => {
    const limiter = createEditRateLimiter({ now: () => T0 });

    expect(steady(limiter, veteran, 30, 60, T0)).toBe(0);
  });

  it("a script flooding 5,000 updates a second gets through its burst plus one second of refill, no more", () => {
    for (const [identity, limit] of [
      [newcomer, DEFAULT_EDIT_RATE_LIMITS.new],
      [veteran, DEFAULT_EDIT_RATE_LIMITS.established],
      [admin, DEFAULT_EDIT_RATE_LIMITS.admin],
    ] as const) {
      const limiter = createEditRateLimiter({ now: () => T0 });

      const refused = steady(limiter, identity, 5_000, 1, T0);

      const allowed = 5_000 - refused;
      expect(allowed).toBeGreaterThanOrEqual(limit.burst + limit.perSecond - 1);
      expect(allowed).toBeLessThanOrEqual(limit.burst + limit.perSecond);
    }
  });

  it("an account turning 4 days old gets the established limits", () => {
    const limiter = createEditRateLimiter({ now: () => T0 });
    const turning = user("turning", "editor", NEW_ACCOUNT_AGE_MS - 1_000);
    expect(burst(limiter, turning, 1_000, T0)).toBe(DEFAULT_EDIT_RATE_LIMITS.new.burst);

    const later = T0 + 3_600_000;

    expect(burst(limiter, turning, 1_000, later)).toBe(DEFAULT_EDIT_RATE_LIMITS.established.burst);
  });

  it("users have separate buckets", () => {
    const limiter = createEditRateLimiter({ now: () => T0 });
    burst(limiter, newcomer, 1_000, T0);

    expect(limiter.take(newcomer, T0).allowed).toBe(false);
    expect(limiter.take(user("another", "editor", 1 * DAY), T0)).toEqual({ allowed: true });
  });

  it("buckets of users who stopped editing are dropped once full, so memory follows active users", () => {
    const limiter = createEditRateLimiter({ now: () => T0 });
    for (let i = 0; i < 10_000; i += 1) limiter.take(user(`user-${i}`, "editor", 400 * DAY), T0);
    expect(limiter.size).toBe(10_000);

    limiter.take(veteran, T0 + 60_000);

    expect(limiter.size).toBe(1);
  });

  it("a bucket still refilling survives the sweep, so a drained user stays limited", () => {
    const limiter = createEditRateLimiter({
      now: () => T0,
      sweepIntervalMs: 1_000,
      limits: { new: { burst: 10, perSecond: 0.1 } },
    });
    burst(limiter, newcomer, 10, T0);
    // The bystander's edit runs the sweep (1 s interval), 5 s after the newcomer drained.
    limiter.take(user("bystander", "editor", 400 * DAY), T0 + 5_000);

    expect(limiter.size).toBe(2);
    expect(limiter.take(newcomer, T0 + 5_000)).toEqual({ allowed: false, retryAfterMs: 5_000 });
  });

  it("a clock stepping backwards does not refill a bucket", () => {
    const limiter = createEditRateLimiter({ now: () => T0 });
    burst(limiter, newcomer, 1_000, T0);

    expect(burst(limiter, newcomer, 1_000, T0 - 60_000)).toBe(0);
    expect(burst(limiter, newcomer, 1_000, T0 + 1_000)).toBe(DEFAULT_EDIT_RATE_LIMITS.new.perSecond);
  });

  it("take() without a time reads the injected clock", () => {
    let now = T0;
    const limiter = createEditRateLimiter({ now: () => now, limits: { new: { burst: 1, perSecond: 1 } } });
    expect(limiter.take(newcomer)).toEqual({ allowed: true });
    expect(limiter.take(newcomer)).toEqual({ allowed: false, retryAfterMs: 1_000 });

    now += 1_000;

    expect(limiter.take(newcomer)).toEqual({ allowed: true });
  });

  it("limits that would block every edit are refused with the field and the value", () => {
    expect(() => createEditRateLimiter({ limits: { new: { burst: 60, perSecond: 0 } } })).toThrow(
      "edit rate limit: new.perSecond must be a positive number, got 0",
    );
    expect(() => createEditRateLimiter({ limits: { admin: { burst: 0.5, perSecond: 10 } } })).toThrow(
      "edit rate limit: admin.burst must be a number >= 1, got 0.5",
    );
  });
});
