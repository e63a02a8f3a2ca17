import Link from "next/link";
import { pageHref } from "../../common/markdown";

export type PageTab = "read" | "edit" | "history" | "links-here";

/** The actions of a page, as tabs. Edit shows only to whom may edit. */
export function PageTabs({ slug, active, canEdit, exists }: { slug: string; active: PageTab; canEdit: boolean; exists: boolean }) {
  const tabs: { tab: PageTab; label: string; href: string; show: boolean }[] = [
    { tab: "read", label: "Read", href: pageHref(slug), show: true },
    { tab: "edit", label: exists ? "Edit" : "Create", href: pageHref(slug, "edit"), show: canEdit },
    { tab: "history", label: "History", href: pageHref(slug, "history"), show: exists },
    { tab: "links-here", label: "What links here", href: pageHref(slug, "links-here"), show: true },
  ];
  return (
    <nav className="page-tabs" aria-label="Page actions">
      {tabs
        .filter((tab) => tab.show)
        .map((tab) => (
          <Link key={tab.tab} href={tab.href} className={tab.tab === active ? "active" : undefined} aria-current={tab.tab === active ? "page" : undefined}>
            {tab.label}
          </Link>
        ))}
    </nav>
  );
}
