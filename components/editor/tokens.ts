/**
 * Edge tokens for the logged-in browser: POST /api/auth/token trades the
 * session cookie for a short-lived token an edge verifies on its own. The
 * next token is fetched before the current one expires, so that a reconnect
 * never waits for the origin.
 */

export interface TokenSource {
  /** A valid token, or null for a visitor without a session (anonymous, read-only). */
  get(): Promise<string | null>;
  /** Forgets the current token: the edge refused it (close code 4401). */
  invalidate(): void;
  stop(): void;
}

interface TokenAnswer {
  token: string;
  expiresIn: number;
}

// Refresh when this share of a token's lifetime has passed.
const REFRESH_AT = 0.8;

export class SessionTokens implements TokenSource {
  private current: { token: string; expiresAt: number } | undefined;
  private pending: Promise<string | null> | undefined;
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;

  constructor(
    private readonly fetchImpl: typeof fetch = (input, init) => fetch(input, init),
    private readonly now: () => number = Date.now,
  ) {}

  get(): Promise<string | null> {
    if (this.current && this.current.expiresAt - this.now() > 5_000) return Promise.resolve(this.current.token);
    this.pending ??= this.fetchToken().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  invalidate(): void {
    this.current = undefined;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.refreshTimer);
  }

  private async fetchToken(): Promise<string | null> {
    const response = await this.fetchImpl("/api/auth/token", {
      method: "POST",
      credentials: "same-origin",
      // The origin takes only JSON on a POST (docs/security.md, cross-site requests).
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    if (response.status === 401) {
      this.current = undefined;
      return null;
    }
    if (!response.ok) {
      // A blocked account is told why and until when (403 `blocked`): that is what the editor shows.
      const refusal = (await response.json().catch(() => ({}))) as { message?: string };
      throw new Error(refusal.message ?? `POST /api/auth/token answered ${response.status}`);
    }
    const answer = (await response.json()) as TokenAnswer;
    const lifetimeMs = answer.expiresIn * 1000;
    this.current = { token: answer.token, expiresAt: this.now() + lifetimeMs };
    clearTimeout(this.refreshTimer);
    if (!this.stopped) {
      this.refreshTimer = setTimeout(() => {
        this.invalidate();
        this.get().catch(() => undefined);
      }, lifetimeMs * REFRESH_AT);
    }
    return answer.token;
  }
}
