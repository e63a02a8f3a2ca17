"use client";

import { useEffect, useState } from "react";

type Watching = { known: false } | { known: true; watching: boolean };

async function failure(response: Response): Promise<Error> {
  const body = (await response.json().catch(() => ({}))) as { message?: string };
  return new Error(body.message ?? `the origin answered ${response.status}`);
}

/**
 * The signed-in viewer's star on a page. The page around it is the same
 * cached HTML for everyone, so whether this viewer watches the page is asked
 * from the browser (GET /api/watchlist/:slug, private, no-store), never
 * rendered into the page.
 */
export function WatchStar({ slug }: { slug: string }) {
  const [state, setState] = useState<Watching>({ known: false });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const path = `/api/watchlist/${encodeURIComponent(slug)}`;

  useEffect(() => {
    let current = true;
    void (async () => {
      try {
        const response = await fetch(path, { cache: "no-store", credentials: "same-origin" });
        if (!response.ok) throw await failure(response);
        const { watching } = (await response.json()) as { watching: boolean };
        if (current) setState({ known: true, watching });
      } catch (caught) {
        if (current) setError(`Could not tell whether you watch this page: ${(caught as Error).message}`);
      }
    })();
    return () => {
      current = false;
    };
  }, [path]);

  async function toggle(watching: boolean) {
    setBusy(true);
    setError(null);
    try {
      const response = await fetch(path, {
        method: watching ? "DELETE" : "PUT",
        headers: { "content-type": "application/json" },
        body: "{}",
      });
      if (!response.ok) throw await failure(response);
      setState({ known: true, watching: ((await response.json()) as { watching: boolean }).watching });
    } catch (caught) {
      setError(`Could not ${watching ? "unwatch" : "watch"} this page: ${(caught as Error).message}`);
    } finally {
      setBusy(false);
    }
  }

  if (!state.known) return error ? <span role="alert" className="error small">{error}</span> : null;
  const { watching } = state;
  return (
    <span className="watch-star">
      <button
        type="button"
        className={watching ? "star watching" : "star"}
        onClick={() => void toggle(watching)}
        disabled={busy}
        aria-pressed={watching}
        title={watching ? "Remove this page from your watchlist" : "Add this page to your watchlist"}
        data-testid="watch-star"
      >
        {watching ? "★ Watching" : "☆ Watch"}
      </button>
      {error ? <span role="alert" className="error small">{error}</span> : null}
    </span>
  );
}
