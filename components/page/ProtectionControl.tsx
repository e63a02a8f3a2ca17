"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";

/** An admin's switch between "any editor" and "admins only" for one page. */
export function ProtectionControl({ slug, protection }: { slug: string; protection: "none" | "admin" }) {
  const router = useRouter();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const next = protection === "admin" ? "none" : "admin";

  async function change() {
    setBusy(true);
    setError(null);
    try {
      const response = await fetch(`/api/pages/${encodeURIComponent(slug)}/protection`, {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ protection: next }),
      });
      if (!response.ok) {
        const body = (await response.json().catch(() => ({}))) as { message?: string };
        throw new Error(body.message ?? `the origin answered ${response.status}`);
      }
      router.refresh();
    } catch (failure) {
      setError(`Could not change protection: ${(failure as Error).message}`);
    } finally {
      setBusy(false);
    }
  }

  return (
    <span className="protection-control">
      <button type="button" className="secondary" onClick={change} disabled={busy}>
        {protection === "admin" ? "Unprotect" : "Protect (admins only)"}
      </button>
      {error ? <span role="alert" className="error">{error}</span> : null}
    </span>
  );
}
