import { createHash, timingSafeEqual } from "node:crypto";

/** Constant-time comparison of a presented secret with the expected one (hashed first: lengths may differ). */
export function secretMatches(presented: string, expected: string): boolean {
  const digest = (value: string) => createHash("sha256").update(value).digest();
  return timingSafeEqual(digest(presented), digest(expected));
}
