"use client";

import { useEffect, useState } from "react";
import type { RecentChange } from "../../origin/recent-changes";

/** How often a live list asks again. Each ask with an unchanged list is a 304 with no body. */
export const LIVE_POLL_MS = 4_000;

export type LiveState = { phase: "off" } | { phase: "live"; checkedAt: number } | { phase: "failed"; problem: string };

/**
 * A list of changes kept current by polling `apiPath` (a public read with an
 * ETag, common/conditional.ts): every few seconds, with If-None-Match, so an
 * unchanged list costs the origin a 304, and a shared cache in front of it
 * (s-maxage) answers most polls. Nothing is asked while the tab is hidden.
 * `etag` is the tag of `initial` as the API would answer it, so the first
 * poll is a 304 too.
 */
export function useLiveChanges(options: { apiPath: string; initial: RecentChange[]; etag: string; live: boolean }): {
  changes: RecentChange[];
  state: LiveState;
} {
  const { apiPath, initial, etag: initialEtag, live } = options;
  const [changes, setChanges] = useState(initial);
  const [state, setState] = useState<LiveState>({ phase: "off" });

  useEffect(() => {
    if (!live) {
      setState({ phase: "off" });
      return;
    }
    let etag = initialEtag;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      if (document.visibilityState === "visible") {
        try {
          // A request that sets If-None-Match itself gets the 304 as it is (Fetch: the HTTP cache steps aside).
          const response = await fetch(apiPath, { headers: { "if-none-match": etag }, cache: "no-store" });
          if (response.status === 200) {
            etag = response.headers.get("etag") ?? "";
            const body = (await response.json()) as { changes: RecentChange[] };
            if (!stopped) setChanges(body.changes);
          } else if (response.status !== 304) {
            throw new Error(`the origin answered ${response.status}`);
          }
          if (!stopped) setState({ phase: "live", checkedAt: Date.now() });
        } catch (error) {
          if (!stopped) setState({ phase: "failed", problem: (error as Error).message });
        }
      }
      if (!stopped) timer = setTimeout(() => void poll(), LIVE_POLL_MS);
    };
    void poll();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [apiPath, initialEtag, live]);

  return { changes, state };
}
