"use client";

import { useRouter } from "next/navigation";
import { type FormEvent, useState } from "react";

/** MediaWiki's usual choices; the API takes any future time (expiresAt). */
const DURATIONS = [
  { label: "1 hour", ms: 3_600_000 },
  { label: "1 day", ms: 86_400_000 },
  { label: "1 week", ms: 7 * 86_400_000 },
  { label: "1 month", ms: 30 * 86_400_000 },
  { label: "No end", ms: 0 },
] as const;

/** An admin blocks an account: POST /api/blocks. Every edge closes its connections within seconds. */
export function BlockForm() {
  const router = useRouter();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    const ms = Number(form.get("duration"));
    setBusy(true);
    setError(null);
    try {
      const response = await fetch("/api/blocks", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          name: form.get("name"),
          reason: form.get("reason"),
          expiresAt: ms > 0 ? new Date(Date.now() + ms).toISOString() : null,
        }),
      });
      if (!response.ok) {
        const body = (await response.json().catch(() => ({}))) as { message?: string };
        throw new Error(body.message ?? `the origin answered ${response.status}`);
      }
      formElement.reset();
      router.refresh();
    } catch (failure) {
      setError(`Could not block: ${(failure as Error).message}`);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="account-form" onSubmit={submit} aria-label="Block an account">
      <label>
        Account name
        <input name="name" required maxLength={64} />
      </label>
      <label>
        Reason (shown to the blocked person)
        <input name="reason" required maxLength={500} />
      </label>
      <label>
        Duration
        <select name="duration" defaultValue={String(DURATIONS[1].ms)}>
          {DURATIONS.map((duration) => (
            <option key={duration.label} value={duration.ms}>
              {duration.label}
            </option>
          ))}
        </select>
      </label>
      {error ? (
        <p className="error" role="alert">
          {error}
        </p>
      ) : null}
      <button type="submit" className="button" disabled={busy}>
        Block
      </button>
    </form>
  );
}
