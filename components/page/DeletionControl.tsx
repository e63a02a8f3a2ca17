"use client";

import { useRouter } from "next/navigation";
import { type FormEvent, useState } from "react";

/**
 * An admin's Delete (on a page) or Undelete (on a deleted page's view): a
 * button that opens a reason field, since the deletion log must say why
 * (POST /api/pages/:slug/delete or /undelete `{ reason }`).
 */
export function DeletionControl({ slug, action }: { slug: string; action: "delete" | "undelete" }) {
  const router = useRouter();
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const label = action === "delete" ? "Delete" : "Undelete";

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const response = await fetch(`/api/pages/${encodeURIComponent(slug)}/${action}`, {
        method: "POST",
        // The origin takes only JSON on a state-changing request (docs/security.md).
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ reason }),
      });
      if (!response.ok) {
        const body = (await response.json().catch(() => ({}))) as { message?: string };
        throw new Error(body.message ?? `the origin answered ${response.status}`);
      }
      setOpen(false);
      setReason("");
      router.refresh();
    } catch (failure) {
      setError(`Could not ${action}: ${(failure as Error).message}`);
    } finally {
      setBusy(false);
    }
  }

  if (!open) {
    return (
      <button type="button" className="secondary" onClick={() => setOpen(true)} data-testid={`${action}-page`}>
        {label}
      </button>
    );
  }
  return (
    <form className="deletion-control" onSubmit={submit} data-testid={`${action}-form`}>
      <label>
        Reason for the deletion log{" "}
        <input value={reason} onChange={(event) => setReason(event.target.value)} required maxLength={500} aria-label={`Reason to ${action}`} />
      </label>{" "}
      <button type="submit" disabled={busy || reason.trim() === ""}>
        {label} page
      </button>{" "}
      <button type="button" className="secondary" onClick={() => setOpen(false)} disabled={busy}>
        Cancel
      </button>
      {error ? <span role="alert" className="error">{error}</span> : null}
    </form>
  );
}
