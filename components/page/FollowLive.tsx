"use client";

import { type ReactNode, useEffect, useState } from "react";
import type { ProviderStatus } from "../editor/provider";
import { findMovedPage } from "../editor/moved-page-lookup";
import { LinkExistence } from "./link-existence";

/**
 * What following needs, loaded when a reader switches it on: most readers
 * never do, and the server never renders it (one Yjs per server bundle).
 */
function loadLiveView() {
  return Promise.all([
    import("yjs"),
    import("../editor/provider"),
    import("../editor/tokens"),
    import("../edges"),
    import("../../common/markdown"),
    import("../../common/wikilinks"),
  ]);
}

const RENDER_DELAY_MS = 100;

function liveLabel(status: ProviderStatus | null): string {
  if (!status || status.phase === "connecting") return "Connecting…";
  if (status.phase === "failed") return `Live view unavailable: ${status.problem ?? "the edge closed the connection"}`;
  if (status.phase === "offline") return "Reconnecting…";
  if (!status.synced) return "Loading…";
  return `Live from ${status.pop ?? "the edge"}${status.replica ? ` · replica ${status.replica}` : ""}`;
}

/**
 * The page body, following edits live when the reader asks: a read-only
 * connection to an edge of the reader's PoP, re-rendered with the server's
 * renderer (and sanitizer) as updates arrive. Off, it shows the server's HTML.
 */
export function FollowLive({
  slug,
  existingPages,
  served,
  children,
}: {
  slug: string;
  existingPages: string[];
  /** The version and text fingerprint of the body as served; when set, the nearest edge is asked for a newer text. */
  served?: { version: number; fingerprint: string };
  children: ReactNode;
}) {
  const [following, setFollowing] = useState(false);
  const [html, setHtml] = useState<string | null>(null);
  const [status, setStatus] = useState<ProviderStatus | null>(null);
  const [fresher, setFresher] = useState<{ html: string; pop: string } | null>(null);

  // Once per view: the served copy may be a cache's, or trail the edges'
  // unflushed edits; a replica of the reader's PoP holding the page answers
  // its newer text from memory (components/page/nearest-edge-text.ts).
  useEffect(() => {
    if (!served) return;
    let stopped = false;
    void Promise.all([import("../edges"), import("./nearest-edge-text"), import("../../common/markdown"), import("../../common/wikilinks")])
      .then(async ([{ fetchEdges, readPopCookie }, { newerEdgeText }, { renderMarkdown }, { linkedSlugs }]) => {
        const newer = await newerEdgeText({ slug, ...served, edges: await fetchEdges(), pop: readPopCookie() });
        if (!newer || stopped) return;
        const existing = await new LinkExistence(existingPages).resolve(linkedSlugs(newer.text));
        if (!stopped) setFresher({ html: renderMarkdown(newer.text, { existingPages: existing }), pop: newer.pop });
      })
      .catch(() => {});
    return () => {
      stopped = true;
    };
  }, [slug, served?.version, served?.fingerprint, existingPages]);

  useEffect(() => {
    if (!following) return;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let destroyLive: (() => void) | undefined;
    void loadLiveView().then(([Y, { EdgeProvider }, { SessionTokens }, { fetchEdges, readPopCookie }, { renderMarkdown }, { linkedSlugs }]) => {
      if (stopped) return;
      const doc = new Y.Doc();
      const body = doc.getText("body");
      const links = new LinkExistence(existingPages);
      const render = () => {
        clearTimeout(timer);
        timer = setTimeout(async () => {
          const text = body.toString();
          const existing = await links.resolve(linkedSlugs(text));
          if (!stopped) setHtml(renderMarkdown(text, { existingPages: existing }));
        }, RENDER_DELAY_MS);
      };
      body.observe(render);
      const tokens = new SessionTokens();
      const provider = new EdgeProvider({ slug, doc, pop: readPopCookie(), listEdges: () => fetchEdges(), tokens, readOnly: true, findMovedPage });
      const unsubscribe = provider.subscribe((next) => {
        setStatus(next);
        if (next.synced) render();
      });
      destroyLive = () => {
        unsubscribe();
        provider.destroy();
        tokens.stop();
        doc.destroy();
      };
    });
    return () => {
      stopped = true;
      clearTimeout(timer);
      destroyLive?.();
      setHtml(null);
      setStatus(null);
    };
  }, [following, slug, existingPages]);

  return (
    <>
      <div className="follow-live">
        <label className="switch">
          <input type="checkbox" checked={following} onChange={(event) => setFollowing(event.target.checked)} />
          <span>Follow live</span>
        </label>
        {following ? (
          <span className="muted" role="status" data-testid="live-status">
            {liveLabel(status)}
          </span>
        ) : null}
      </div>
      {following && html !== null ? (
        html.trim() === "" ? (
          <p className="muted">This page is empty.</p>
        ) : (
          <div className="page-body" data-live="true" dangerouslySetInnerHTML={{ __html: html }} />
        )
      ) : !following && fresher !== null ? (
        <>
          <p className="muted" role="status" data-testid="edge-text">
            Newer than this copy of the page: the text as the edge in {fresher.pop} holds it now.
          </p>
          <div className="page-body" data-edge="true" dangerouslySetInnerHTML={{ __html: fresher.html }} />
        </>
      ) : (
        children
      )}
    </>
  );
}
