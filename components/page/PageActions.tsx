"use client";

import Link from "next/link";
import { writePermission } from "../../common/write-permission";
import { useViewer } from "../layout/ViewerContext";
import { type PageTab, PageTabs } from "./PageTabs";
import { DeletionControl } from "./DeletionControl";
import { MoveControl } from "./MoveControl";
import { ProtectionControl } from "./ProtectionControl";
import { WatchStar } from "./WatchStar";

/**
 * A page's tabs and what the viewer may do with it. The page around it is
 * the same for everyone; these follow the account GET /api/me names, once it
 * answered (before, only the tabs anyone may use show).
 */
export function PageActions({ slug, tab, exists, protection }: { slug: string; tab: PageTab; exists: boolean; protection: "none" | "admin" }) {
  const { state } = useViewer();
  const viewer = state.known ? state.user : null;
  const permission = writePermission(viewer, protection);
  const cannotEditBecause = permission.canWrite ? null : permission.reason;
  // The edit tab says why itself, beside the editor.
  const showReason = tab !== "edit" && state.known && cannotEditBecause !== null && (viewer !== null || protection === "admin");
  return (
    <>
      <div className="page-header-row">
        <PageTabs slug={slug} active={tab} canEdit={state.known && permission.canWrite} exists={exists} />
        <div className="page-header-tools">
          {protection === "admin" ? (
            <span className="badge protected" data-testid="protected-badge" title="Only admins can edit this page">
              Protected
            </span>
          ) : null}
          {viewer && exists ? <WatchStar key={viewer.name} slug={slug} /> : null}
          {viewer?.role === "admin" && exists ? <ProtectionControl slug={slug} protection={protection} /> : null}
          {viewer && permission.canWrite && exists && tab === "read" ? <MoveControl slug={slug} /> : null}
          {viewer?.role === "admin" && exists && tab === "read" ? <DeletionControl slug={slug} action="delete" /> : null}
          {state.known && !viewer && protection === "none" ? (
            <Link className="small" href={`/login?next=${encodeURIComponent(`/wiki/${encodeURIComponent(slug)}`)}`}>
              Log in to edit
            </Link>
          ) : null}
        </div>
      </div>
      {showReason ? (
        <p className="notice" role="note" data-testid="edit-notice">
          {cannotEditBecause}
        </p>
      ) : null}
    </>
  );
}
