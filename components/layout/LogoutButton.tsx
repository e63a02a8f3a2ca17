"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";
import { useViewer } from "./ViewerContext";

export function LogoutButton() {
  const router = useRouter();
  const { reload } = useViewer();
  const [busy, setBusy] = useState(false);
  return (
    <button
      type="button"
      className="link-button"
      disabled={busy}
      onClick={async () => {
        setBusy(true);
        try {
          await fetch("/api/auth/logout", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
          await reload();
          router.refresh();
        } finally {
          setBusy(false);
        }
      }}
    >
      Log out
    </button>
  );
}
