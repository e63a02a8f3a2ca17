import { afterEach, describe, expect, it, vi } from "vitest";
import { SessionTokens } from "./tokens";

function tokenAnswers(...tokens: (string | 401)[]) {
  const calls: string[] = [];
  const fetchImpl = vi.fn(async (input: RequestInfo | URL) => {
    calls.push(String(input));
    const next = tokens.shift();
    if (next === 401 || next === undefined) return new Response(JSON.stringify({ error: "unauthorized" }), { status: 401 });
    return new Response(JSON.stringify({ token: next, expiresIn: 100, user: {} }), { status: 200 });
  });
  return { fetchImpl: fetchImpl as unknown as typeof fetch, calls };
}

afterEach(() => {
  vi.useRealTimers();
});

describe("edge tokens for the session", () => {
  it("fetches one token for concurrent callers and reuses it", async () => {
    const { fetchImpl, calls } = tokenAnswers("t1");
    const tokens = new SessionTokens(fetchImpl);
    expect(await Promise.all([tokens.get(), tokens.get()])).toEqual(["t1", "t1"]);
    expect(await tokens.get()).toBe("t1");
    expect(calls).toEqual(["/api/auth/token"]);
    tokens.stop();
  });

  it("fetches the next token before the current one expires", async () => {
    vi.useFakeTimers();
    const { fetchImpl, calls } = tokenAnswers("t1", "t2");
    const tokens = new SessionTokens(fetchImpl, () => Date.now());
    expect(await tokens.get()).toBe("t1");
    await vi.advanceTimersByTimeAsync(81_000);
    expect(calls).toHaveLength(2);
    expect(await tokens.get()).toBe("t2");
    tokens.stop();
  });

  it("fetches a new token after the edge refused one, and answers null without a session", async () => {
    const { fetchImpl } = tokenAnswers("t1", "t2", 401);
    const tokens = new SessionTokens(fetchImpl);
    expect(await tokens.get()).toBe("t1");
    tokens.invalidate();
    expect(await tokens.get()).toBe("t2");
    tokens.invalidate();
    expect(await tokens.get()).toBeNull();
    tokens.stop();
  });
});

describe("a blocked account's editor", () => {
  it("is told why it gets no token: the origin's message, not only the status", async () => {
    const message = "your account is blocked by an admin with no end date: vandalism";
    const fetchImpl = (async () => new Response(JSON.stringify({ error: "blocked", message }), { status: 403 })) as unknown as typeof fetch;
    const tokens = new SessionTokens(fetchImpl);
    await expect(tokens.get()).rejects.toThrow(message);
    tokens.stop();
  });
});
