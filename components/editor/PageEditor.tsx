"use client";

import { markdown } from "@codemirror/lang-markdown";
import { Compartment, EditorState, type Extension } from "@codemirror/state";
import { EditorView, keymap } from "@codemirror/view";
import { basicSetup } from "codemirror";
import Link from "next/link";
import { useEffect, useRef, useState } from "react";
import { yCollab, yUndoManagerKeymap } from "y-codemirror.next";
import { Awareness } from "y-protocols/awareness";
import * as Y from "yjs";
import { pageHref, renderMarkdown } from "../../common/markdown";
import { linkedSlugs } from "../../common/wikilinks";
import { type Slug, slugToTitle } from "../../common/slug";
import type { Role } from "../../protocol/token";
import { fetchEdges, POP_CHANGED_EVENT, readPopCookie } from "../edges";
import { LinkExistence } from "../page/link-existence";
import { CommitWatch } from "./commit-watch";
import { EdgeProvider, type ProviderStatus } from "./provider";
import { describeStatus } from "./status-text";
import { StatusLine } from "./StatusLine";
import { findMovedPage } from "./moved-page-lookup";
import { SessionTokens } from "./tokens";
import { userColor } from "./user-color";

export interface PageEditorProps {
  slug: string;
  title: string;
  user: { name: string; role: Role };
  /** Why the server already knows this user may not write here (protection, role); null if they may. */
  readOnlyReason: string | null;
  /** An old revision to bring back: it replaces the text once, as one edit, after the first sync. */
  restore: { number: number; text: string } | null;
  /** Pages that exist among those the text links to, for the preview's red links. */
  existingPages: string[];
}

type Layout = "edit" | "split" | "preview";

interface Peer {
  clientId: number;
  name: string;
  color: string;
}

const PREVIEW_DELAY_MS = 150;

function readOnlyExtension(readOnly: boolean): Extension {
  return [EditorState.readOnly.of(readOnly), EditorView.editable.of(!readOnly)];
}

/**
 * The collaborative Markdown editor: CodeMirror 6 bound to the page's
 * Y.Text("body"), connected to an edge of the user's PoP through our
 * provider, with the others' cursors, a preview and a status line.
 */
export default function PageEditor({ slug, title, user, readOnlyReason, restore, existingPages }: PageEditorProps) {
  const host = useRef<HTMLDivElement>(null);
  const editor = useRef<{ view: EditorView; readOnly: Compartment; provider: EdgeProvider } | null>(null);
  const [status, setStatus] = useState<ProviderStatus | null>(null);
  const [savedToWikiAt, setSavedToWikiAt] = useState<Date | undefined>();
  const [layout, setLayout] = useState<Layout>("split");
  const [previewHtml, setPreviewHtml] = useState("");
  const [peers, setPeers] = useState<Peer[]>([]);
  const [notice, setNotice] = useState<string | null>(restore ? `Restoring revision ${restore.number} once connected…` : null);

  useEffect(() => {
    const parent = host.current;
    if (!parent) return;
    const doc = new Y.Doc();
    const body = doc.getText("body");
    const awareness = new Awareness(doc);
    awareness.setLocalStateField("user", { name: user.name, ...userColor(user.name) });
    const tokens = new SessionTokens();
    const provider = new EdgeProvider({
      slug,
      doc,
      awareness,
      pop: readPopCookie(),
      listEdges: () => fetchEdges(),
      tokens,
      findMovedPage,
      log: (message, detail) => console.debug(`[weirwood] ${message}`, detail ?? ""),
    });
    const readOnly = new Compartment();
    const view = new EditorView({
      parent,
      state: EditorState.create({
        doc: body.toString(),
        extensions: [
          keymap.of(yUndoManagerKeymap),
          basicSetup,
          markdown(),
          EditorView.lineWrapping,
          readOnly.of(readOnlyExtension(readOnlyReason !== null)),
          yCollab(body, awareness, { undoManager: new Y.UndoManager(body) }),
          EditorView.contentAttributes.of({ "aria-label": `Markdown of ${title}` }),
        ],
      }),
    });
    editor.current = { view, readOnly, provider };

    // Preview: the page renderer (and its sanitizer) on every settled change.
    const links = new LinkExistence(existingPages);
    let previewTimer: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;
    const renderPreview = () => {
      clearTimeout(previewTimer);
      previewTimer = setTimeout(async () => {
        const text = body.toString();
        const existing = await links.resolve(linkedSlugs(text));
        if (!stopped) setPreviewHtml(renderMarkdown(text, { existingPages: existing }));
      }, PREVIEW_DELAY_MS);
    };
    body.observe(renderPreview);

    const commits = new CommitWatch({
      slug,
      localText: () => body.toString(),
      acknowledged: () => provider.getStatus().unacknowledgedEdits === 0,
      onCommitted: (at) => setSavedToWikiAt(at),
    });
    const onLocalUpdate = (_update: Uint8Array, origin: unknown) => {
      if (origin === provider) return;
      setSavedToWikiAt(undefined);
      commits.markDirty();
    };
    doc.on("update", onLocalUpdate);

    let lastOriginAck: number | undefined;
    let followedTo: string | undefined;
    const unsubscribe = provider.subscribe((next) => {
      setStatus(next);
      // The page was moved while open: the provider took the document to its
      // new name; the address and the notice follow (nothing typed is lost).
      if (next.movedTo !== undefined && next.movedTo !== followedTo) {
        followedTo = next.movedTo;
        window.history.replaceState(null, "", pageHref(next.movedTo, "edit"));
        setNotice(`This page was moved to ${slugToTitle(next.movedTo as Slug)}: you are editing it under its new name.`);
      }
      const originAck = next.acknowledgedAt.origin;
      if (originAck !== undefined && originAck !== lastOriginAck && next.uncommittedEdits === 0) {
        lastOriginAck = originAck;
        setSavedToWikiAt(new Date(originAck));
      }
    });
    setStatus(provider.getStatus());

    const onPeers = () => {
      const list: Peer[] = [];
      for (const [clientId, state] of awareness.getStates()) {
        const peer = (state as { user?: { name?: unknown; color?: unknown } }).user;
        if (clientId === awareness.clientID || typeof peer?.name !== "string") continue;
        list.push({ clientId, name: peer.name, color: typeof peer.color === "string" ? peer.color : "#888" });
      }
      setPeers(list);
    };
    awareness.on("change", onPeers);

    if (restore && readOnlyReason === null) {
      void provider.whenSynced().then(() => {
        if (stopped) return;
        // One transaction: the restore is one edit, merged like any other.
        doc.transact(() => {
          body.delete(0, body.length);
          body.insert(0, restore.text);
        });
        window.history.replaceState(null, "", pageHref(slug, "edit"));
        setNotice(`Revision ${restore.number} restored. It is saved like any other edit.`);
      });
    }

    const onPopChanged = (event: Event) => provider.setPop((event as CustomEvent<string>).detail);
    const onOnline = () => provider.reconnectNow();
    window.addEventListener(POP_CHANGED_EVENT, onPopChanged);
    window.addEventListener("online", onOnline);

    return () => {
      stopped = true;
      clearTimeout(previewTimer);
      window.removeEventListener(POP_CHANGED_EVENT, onPopChanged);
      window.removeEventListener("online", onOnline);
      unsubscribe();
      commits.stop();
      awareness.off("change", onPeers);
      provider.destroy();
      tokens.stop();
      view.destroy();
      awareness.destroy();
      doc.destroy();
      editor.current = null;
    };
    // Built once per page: the other props are fixed for the editor's life.
  }, [slug]);

  const writable = readOnlyReason === null && status?.canWrite !== false && status?.denied === undefined;
  useEffect(() => {
    const current = editor.current;
    if (!current) return;
    current.view.dispatch({ effects: current.readOnly.reconfigure(readOnlyExtension(!writable)) });
  }, [writable]);

  const text = status ? describeStatus(status, savedToWikiAt) : { connection: "Starting…", saving: "", tone: "busy" as const };
  const reason = readOnlyReason ?? status?.denied;

  return (
    <section className="editor">
      <div className="editor-toolbar">
        <div className="segmented" role="group" aria-label="Layout">
          {(["edit", "split", "preview"] as const).map((option) => (
            <button key={option} type="button" aria-pressed={layout === option} onClick={() => setLayout(option)}>
              {option === "edit" ? "Write" : option === "split" ? "Side by side" : "Preview"}
            </button>
          ))}
        </div>
        <div className="peers" aria-label="Editing now">
          {peers.map((peer) => (
            <span key={peer.clientId} className="peer" style={{ borderColor: peer.color }} data-testid="peer">
              <span className="peer-dot" style={{ background: peer.color }} aria-hidden="true" />
              {peer.name}
            </span>
          ))}
        </div>
        <Link href={pageHref(slug)} className="button secondary">
          View page
        </Link>
      </div>
      {reason ? (
        <p className="notice" role="alert" data-testid="read-only-reason">
          <strong>Read-only.</strong> {reason}
        </p>
      ) : null}
      {notice ? (
        <p className="notice info" data-testid="editor-notice">
          {notice}
        </p>
      ) : null}
      <div className={`editor-panes layout-${layout}`}>
        <div className="editor-source" ref={host} data-testid="editor" />
        <div className="editor-preview page-body" aria-label="Preview" dangerouslySetInnerHTML={{ __html: previewHtml }} />
      </div>
      <StatusLine text={text} problem={status?.problem} />
    </section>
  );
}
