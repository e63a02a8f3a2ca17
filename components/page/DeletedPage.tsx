"use client";

import Link from "next/link";
import { useViewer } from "../layout/ViewerContext";
import { DeletionControl } from "./DeletionControl";

/**
 * The view of a page an admin deleted. The same HTML for every reader (it
 * is cached as the page view is); an admin, known from GET /api/me, also
 * gets the deletion log's entries for the page and Undelete.
 */
export function DeletedPage({ slug, title }: { slug: string; title: string }) {
  const { state } = useViewer();
  const admin = state.known && state.user?.role === "admin";
  return (
    <section data-testid="deleted-page">
      <h1>{title}</h1>
      <p className="notice" role="note">
        This page was deleted.
      </p>
      {admin ? (
        <p className="actions">
          <Link href={`/admin/deletions?slug=${encodeURIComponent(slug)}`}>Deletion log of this page</Link> ·{" "}
          <DeletionControl slug={slug} action="undelete" />
        </p>
      ) : null}
    </section>
  );
}
