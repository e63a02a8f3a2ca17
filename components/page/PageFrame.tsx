import type { ReactNode } from "react";
import { PageActions } from "./PageActions";
import type { PageTab } from "./PageTabs";

export interface PageFrameProps {
  slug: string;
  title: string;
  tab: PageTab;
  exists: boolean;
  protection: "none" | "admin";
  /** A line under the title: "Revision 4 of ...". */
  subtitle?: ReactNode;
  children: ReactNode;
}

/**
 * A page's title, its tabs, and what the viewer may do with it; the tab's
 * content below. The same HTML for every viewer: PageActions adds what is
 * theirs in the browser.
 */
export function PageFrame({ slug, title, tab, exists, protection, subtitle, children }: PageFrameProps) {
  return (
    <article className="wiki-page">
      <header className="page-header">
        <h1>{title}</h1>
        {subtitle ? <p className="page-subtitle muted">{subtitle}</p> : null}
        <PageActions slug={slug} tab={tab} exists={exists} protection={protection} />
      </header>
      {children}
    </article>
  );
}
