"use client";

import Link from "next/link";
import { useViewer } from "../layout/ViewerContext";
import { NewPageForm } from "./NewPageForm";

/** The home page's invitation: a new-page form for whom may write, log in or register for anyone else. */
export function StartPage() {
  const { state } = useViewer();
  if (!state.known) return null;
  if (state.user && state.user.role !== "reader") {
    return (
      <>
        <h2>Start a page</h2>
        <NewPageForm title="" />
      </>
    );
  }
  return (
    <p>
      <Link href="/register">Create an account</Link> or <Link href="/login">log in</Link> to write.
    </p>
  );
}
