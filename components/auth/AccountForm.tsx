"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { type FormEvent, useState } from "react";
import { useViewer } from "../layout/ViewerContext";

/** Where to go after logging in: only a path on this site. */
function safeNext(next: string | undefined): string {
  return next && next.startsWith("/") && !next.startsWith("//") ? next : "/";
}

/** The log-in and register forms: POST /api/auth/login or /register, which set the session cookie. */
export function AccountForm({ mode, next }: { mode: "login" | "register"; next?: string }) {
  const router = useRouter();
  const { reload } = useViewer();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setBusy(true);
    setError(null);
    try {
      const response = await fetch(`/api/auth/${mode}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ name: form.get("name"), password: form.get("password") }),
      });
      if (!response.ok) {
        const body = (await response.json().catch(() => ({}))) as { message?: string };
        throw new Error(body.message ?? `the origin answered ${response.status}`);
      }
      await reload();
      router.replace(safeNext(next));
      router.refresh();
    } catch (failure) {
      setError((failure as Error).message);
      setBusy(false);
    }
  }

  const register = mode === "register";
  return (
    <form className="account-form" onSubmit={submit}>
      <label>
        Name
        <input name="name" autoComplete="username" required minLength={2} maxLength={64} />
      </label>
      <label>
        Password
        <input
          name="password"
          type="password"
          autoComplete={register ? "new-password" : "current-password"}
          required
          minLength={register ? 8 : 1}
        />
      </label>
      {error ? (
        <p className="error" role="alert">
          {error}
        </p>
      ) : null}
      <button type="submit" className="button" disabled={busy}>
        {register ? "Create account" : "Log in"}
      </button>
      <p className="muted">
        {register ? (
          <>
            Have an account? <Link href={`/login${next ? `?next=${encodeURIComponent(next)}` : ""}`}>Log in</Link>
          </>
        ) : (
          <>
            New here? <Link href={`/register${next ? `?next=${encodeURIComponent(next)}` : ""}`}>Create an account</Link>
          </>
        )}
      </p>
    </form>
  );
}
