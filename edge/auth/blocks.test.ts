import { describe, expect, it } from "vitest";
import { BlockedAccounts } from "./blocks";

const block = (userId: string, expiresAt: string | null, reason = "vandalism") => ({ userId, name: userId, reason, expiresAt });

describe("blocked accounts", () => {
  it("a notice blocks and lifts; the origin's list replaces everything, lifting what a lost notice would have", () => {
    const blocked = new BlockedAccounts();
    blocked.apply({ kind: "blocked", block: block("u1", null) });
    expect(blocked.refusal("u1", Date.now())).toBe("blocked by an admin with no end: vandalism");
    blocked.apply({ kind: "unblocked", userId: "u1" });
    expect(blocked.refusal("u1", Date.now())).toBeUndefined();
    blocked.apply({ kind: "blocked", block: block("u2", null) });
    blocked.replaceAll([block("u3", null)]);
    expect(blocked.refusal("u2", Date.now())).toBeUndefined();
    expect(blocked.refusal("u3", Date.now())).toBeDefined();
  });

  it("a notice heard while the origin's list is being read wins over that list, which may predate it", () => {
    const blocked = new BlockedAccounts();
    blocked.replaceAll([block("u1", null)]);
    blocked.readStarted();
    blocked.apply({ kind: "unblocked", userId: "u1" });
    blocked.apply({ kind: "blocked", block: block("u2", null) });
    // The answer of a read that started before both notices.
    blocked.replaceAll([block("u1", null)]);
    expect(blocked.refusal("u1", Date.now())).toBeUndefined();
    expect(blocked.refusal("u2", Date.now())).toBeDefined();
    // The next read replaces everything again.
    blocked.readStarted();
    blocked.replaceAll([]);
    expect(blocked.refusal("u2", Date.now())).toBeUndefined();
  });

  it("a block ends at its expiry without anyone saying so", () => {
    const blocked = new BlockedAccounts();
    blocked.replaceAll([block("u1", "2030-01-01T00:00:00.000Z")]);
    expect(blocked.refusal("u1", Date.parse("2029-12-31T23:59:59Z"))).toBe("blocked by an admin until 2030-01-01T00:00:00.000Z: vandalism");
    expect(blocked.refusal("u1", Date.parse("2030-01-01T00:00:00Z"))).toBeUndefined();
  });

  it("a long reason is cut to a valid close reason of at most 123 bytes", () => {
    const blocked = new BlockedAccounts();
    blocked.replaceAll([block("u1", null, "é".repeat(200))]);
    const reason = blocked.refusal("u1", 0)!;
    expect(Buffer.byteLength(reason)).toBeLessThanOrEqual(123);
    expect(reason).not.toContain("\uFFFD");
    expect(reason.endsWith("…")).toBe(true);
  });
});
