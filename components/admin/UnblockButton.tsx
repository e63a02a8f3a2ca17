"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";

/** Lifts one block: DELETE /api/blocks/:name. New edge tokens work again at once. */
export function UnblockButton({ name }: { name: string }) {
  const router = useRouter();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function unblock() {
    setBusy(true);
    setError(null);
    try {
      const response = await fetch(`/api/blocks/${encodeURIComponent(name)}`, {
        method: "DELETE",
        // The origin takes only JSON on a state-changing request (docs/security.md).
        headers: { "content-type": "application/json" },
        body: "{}",
      });
      if (!response.ok) {
        const body = (await response.json().catch(() => ({}))) as { message?: string };
        throw new Error(body.message ?? `the origin answered ${response.status}`);
      }
      router.refresh();
    } catch (failure) {
      setError(`Could not unblock: ${(failure as Error).message}`);
    } finally {
      setBusy(false);
    }
  }

  return (
    <span className="protection-control">
      <button type="button" className="secondary" onClick={unblock} disabled={busy} aria-label={`Unblock ${name}`}>
        Unblock
      </button>
      {error ? <span role="alert" className="error">{error}</span> : null}
    </span>
  );
}
