"use client";

import { useRouter } from "next/navigation";
import { type FormEvent, useState } from "react";
import { pageHref } from "../../common/markdown";

/**
 * Move (rename) a page: a button that opens the new name and a reason
 * (POST /api/pages/:slug/move `{ to, reason }`), then goes to the page under
 * its new name. Anyone who may edit the page may move it.
 */
export function MoveControl({ slug }: { slug: string }) {
  const router = useRouter();
  const [open, setOpen] = useState(false);
  const [to, setTo] = useState("");
  const [reason, setReason] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const response = await fetch(`/api/pages/${encodeURIComponent(slug)}/move`, {
        method: "POST",
        // The origin takes only JSON on a state-changing request (docs/security.md).
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ to, reason }),
      });
      const body = (await response.json().catch(() => ({}))) as { message?: string; move?: { to: string } };
      if (!response.ok || !body.move) throw new Error(body.message ?? `the origin answered ${response.status}`);
      router.push(pageHref(body.move.to));
    } catch (failure) {
      setError(`Could not move: ${(failure as Error).message}`);
      setBusy(false);
    }
  }

  if (!open) {
    return (
      <button type="button" className="secondary" onClick={() => setOpen(true)} data-testid="move-page">
        Move
      </button>
    );
  }
  return (
    <form className="deletion-control" onSubmit={submit} data-testid="move-form">
      <label>
        New name <input value={to} onChange={(event) => setTo(event.target.value)} required maxLength={200} aria-label="New name" />
      </label>{" "}
      <label>
        Reason <input value={reason} onChange={(event) => setReason(event.target.value)} maxLength={500} aria-label="Reason to move" />
      </label>{" "}
      <button type="submit" disabled={busy || to.trim() === ""}>
        Move page
      </button>{" "}
      <button type="button" className="secondary" onClick={() => setOpen(false)} disabled={busy}>
        Cancel
      </button>
      {error ? <span role="alert" className="error">{error}</span> : null}
    </form>
  );
}
