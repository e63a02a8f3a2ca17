import type { Identity } from "../../protocol/token";

/**
 * Which limit applies: accounts younger than `newAccountAgeMs` are "new"
 * (MediaWiki's autoconfirmed threshold, $wgAutoConfirmAge, is 4 days);
 * admins are "admin" whatever their age (the first account of a wiki is an
 * admin created minutes ago); everyone else is "established".
 */
export type RateClass = "new" | "established" | "admin";

export interface BucketLimits {
  /** Edits a user may send at once, after a pause. */
  burst: number;
  /** Edits a second a user may keep up for ever. */
  perSecond: number;
}

/**
 * An "edit" is one Yjs update message from a client: y-codemirror makes one
 * per keystroke, and y-websocket sends each at once. So, unlike MediaWiki's
 * $wgRateLimits (edits = saved revisions, e.g. 8 per minute for newbies),
 * these count keystrokes:
 * - a fast typist sustains ~10 updates/s (120 wpm) and bursts to ~15/s;
 *   holding a key (backspace) auto-repeats at ~30/s for seconds; a paste or
 *   an undo is one update;
 * - a script floods thousands a second, and each of its updates fans out to
 *   every co-editor of the page and stays in the document's history.
 * Every class sustains the fastest human typing for ever, because hitting the
 * limit stops reading the socket until the bucket refills (connection.ts),
 * which a person must never feel while typing, and a flood that keeps at it
 * for EDGE_FLOOD_CLOSE_MS is closed (CloseCode.rateLimited). What differs is
 * how far above it a class may go:
 * - new: 15/s sustained, burst 60 (4 s of key repeat at 30/s before it
 *   throttles); a flood from a fresh account slows to 15/s after 60 updates;
 * - established: 30/s (key repeat for ever), burst 200 (several users' worth
 *   of typing from one account: shared demo accounts, a few open tabs);
 * - admin: 60/s, burst 500: reverts and bulk fixes through scripts.
 * One limiter per replica: a user spread over R replicas of a PoP gets R
 * times this, which is fine for a guard against floods, not a quota.
 */
export const DEFAULT_EDIT_RATE_LIMITS: Readonly<Record<RateClass, BucketLimits>> = {
  new: { burst: 60, perSecond: 15 },
  established: { burst: 200, perSecond: 30 },
  admin: { burst: 500, perSecond: 60 },
};

export const NEW_ACCOUNT_AGE_MS = 4 * 24 * 3600 * 1000;

export interface EditRateLimiterOptions {
  limits?: Partial<Record<RateClass, BucketLimits>>;
  newAccountAgeMs?: number;
  /** How often full buckets are swept out (default 10 s). */
  sweepIntervalMs?: number;
  /** Milliseconds since the epoch; injectable for tests. */
  now?: () => number;
}

export type RateDecision = { allowed: true } | { allowed: false; retryAfterMs: number };

export interface EditRateLimiter {
  /** Spends one edit of `identity`'s budget, if there is one. */
  take(identity: Pick<Identity, "userId" | "role" | "createdAt">, now?: number): RateDecision;
  /** Buckets held: users who edited recently enough that their bucket is not full yet. */
  readonly size: number;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
  /** The limit of the user's class at the last edit, for the sweep. */
  limit: BucketLimits;
}

export function rateClassOf(
  identity: Pick<Identity, "role" | "createdAt">,
  now: number,
  newAccountAgeMs = NEW_ACCOUNT_AGE_MS,
): RateClass {
  if (identity.role === "admin") return "admin";
  return now - identity.createdAt.getTime() < newAccountAgeMs ? "new" : "established";
}

/** A token bucket per user id. */
export function createEditRateLimiter(options: EditRateLimiterOptions = {}): EditRateLimiter {
  const limits = { ...DEFAULT_EDIT_RATE_LIMITS, ...options.limits };
  for (const [rateClass, limit] of Object.entries(limits)) validateLimits(rateClass, limit);
  const newAccountAgeMs = options.newAccountAgeMs ?? NEW_ACCOUNT_AGE_MS;
  const sweepIntervalMs = options.sweepIntervalMs ?? 10_000;
  const clock = options.now ?? Date.now;
  const buckets = new Map<string, Bucket>();
  let sweptAt = clock();

  function tokensAt(bucket: Bucket, limit: BucketLimits, now: number): number {
    // A wall-clock step backwards must neither drain nor fill a bucket.
    const elapsedMs = Math.max(0, now - bucket.updatedAt);
    return Math.min(limit.burst, bucket.tokens + (elapsedMs / 1000) * limit.perSecond);
  }

  // A full bucket decides exactly like no bucket, so dropping it changes no
  // decision: memory follows the users who edited in the last few seconds
  // (burst / perSecond: 4 to 8 s with the defaults), not every user seen.
  function sweep(now: number): void {
    sweptAt = now;
    for (const [userId, bucket] of buckets) {
      if (tokensAt(bucket, bucket.limit, now) >= bucket.limit.burst) buckets.delete(userId);
    }
  }

  return {
    take(identity, now = clock()) {
      if (now - sweptAt >= sweepIntervalMs) sweep(now);
      const limit = limits[rateClassOf(identity, now, newAccountAgeMs)];
      const bucket = buckets.get(identity.userId);
      const tokens = bucket ? tokensAt(bucket, limit, now) : limit.burst;
      const updatedAt = bucket ? Math.max(now, bucket.updatedAt) : now;
      const allowed = tokens >= 1;
      buckets.set(identity.userId, { tokens: allowed ? tokens - 1 : tokens, updatedAt, limit });
      return allowed ? { allowed: true } : { allowed: false, retryAfterMs: Math.ceil(((1 - tokens) / limit.perSecond) * 1000) };
    },
    get size() {
      return buckets.size;
    },
  };
}

function validateLimits(rateClass: string, limit: BucketLimits): void {
  if (!Number.isFinite(limit.burst) || limit.burst < 1) {
    throw new Error(`edit rate limit: ${rateClass}.burst must be a number >= 1, got ${limit.burst}`);
  }
  if (!Number.isFinite(limit.perSecond) || limit.perSecond <= 0) {
    throw new Error(`edit rate limit: ${rateClass}.perSecond must be a positive number, got ${limit.perSecond}`);
  }
}
