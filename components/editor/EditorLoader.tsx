"use client";

import dynamic from "next/dynamic";
import type { PageEditorProps } from "./PageEditor";

// CodeMirror measures the DOM: the editor renders in the browser only.
const PageEditor = dynamic(() => import("./PageEditor"), {
  ssr: false,
  loading: () => <p className="muted">Loading the editor…</p>,
});

export function EditorLoader(props: PageEditorProps) {
  return <PageEditor {...props} />;
}
