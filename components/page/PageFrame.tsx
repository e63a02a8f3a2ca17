import Link from "next/link";
import type { ReactNode } from "react";
import { PageTabs, type PageTab } from "./PageTabs";
import { ProtectionControl } from "./ProtectionControl";

export interface PageFrameProps {
  slug: string;
  title: string;
  tab: PageTab;
  exists: boolean;
  protection: "none" | "admin";
  /** Whether the viewer may edit, and if not, why (null: they may). */
  cannotEditBecause: string | null;
  loggedIn: boolean;
  isAdmin: boolean;
  /** A line under the title: "Revision 4 of ...". */
  subtitle?: ReactNode;
  children: ReactNode;
}

/** A page's title, its tabs, and what the viewer may do with it; the tab's content below. */
export function PageFrame({ slug, title, tab, exists, protection, cannotEditBecause, loggedIn, isAdmin, subtitle, children }: PageFrameProps) {
  const showReason = cannotEditBecause !== null && (loggedIn || protection === "admin");
  return (
    <article className="wiki-page">
      <header className="page-header">
        <h1>{title}</h1>
        {subtitle ? <p className="page-subtitle muted">{subtitle}</p> : null}
        <div className="page-header-row">
          <PageTabs slug={slug} active={tab} canEdit={cannotEditBecause === null} exists={exists} />
          <div className="page-header-tools">
            {protection === "admin" ? (
              <span className="badge protected" data-testid="protected-badge" title="Only admins can edit this page">
                Protected
              </span>
            ) : null}
            {isAdmin && exists ? <ProtectionControl slug={slug} protection={protection} /> : null}
            {!loggedIn && protection === "none" ? (
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
      </header>
      {children}
    </article>
  );
}
