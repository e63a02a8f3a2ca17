"use client";

import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useState } from "react";
import type { Role } from "../../protocol/token";

export interface Viewer {
  name: string;
  role: Role;
}

/** Not known yet (GET /api/me under way), or known: an account or an anonymous reader (null). */
export type ViewerState = { known: false } | { known: true; user: Viewer | null };

interface ViewerContextValue {
  state: ViewerState;
  /** Asks again, after logging in or out. */
  reload(): Promise<void>;
}

const ViewerContext = createContext<ViewerContextValue>({ state: { known: false }, reload: async () => {} });

async function fetchViewer(): Promise<Viewer | null> {
  const response = await fetch("/api/me", { cache: "no-store", credentials: "same-origin" });
  if (!response.ok) throw new Error(`GET /api/me answered ${response.status}`);
  const { user } = (await response.json()) as { user: Viewer | null };
  return user ? { name: user.name, role: user.role } : null;
}

/**
 * Who is reading, asked once after load. The server renders every page the
 * same for everyone (shared caches keep them, docs/architecture.md "Cached
 * reads"); the header's name and the buttons an account may use come from
 * this personal, uncached request instead.
 */
export function ViewerProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<ViewerState>({ known: false });
  const reload = useCallback(async () => {
    try {
      setState({ known: true, user: await fetchViewer() });
    } catch {
      // The origin did not answer: show the page as to an anonymous reader; the edge still checks every write.
      setState({ known: true, user: null });
    }
  }, []);
  useEffect(() => {
    void reload();
  }, [reload]);
  const value = useMemo(() => ({ state, reload }), [state, reload]);
  return <ViewerContext value={value}>{children}</ViewerContext>;
}

export function useViewer(): ViewerContextValue {
  return useContext(ViewerContext);
}
