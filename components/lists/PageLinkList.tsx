import Link from "next/link";
import { pageHref } from "../../common/markdown";
import { plural } from "../format";

export interface PageLinkRow {
  slug: string;
  title: string;
  /** For wanted pages: how many pages link there. */
  linkCount?: number;
}

/** A list of pages; `missing` pages are red links to their editor, as in the page body. */
export function PageLinkList({ pages, missing = false, empty }: { pages: PageLinkRow[]; missing?: boolean; empty: string }) {
  if (pages.length === 0) return <p className="muted">{empty}</p>;
  return (
    <ul className="page-list">
      {pages.map((page) => (
        <li key={page.slug}>
          <Link href={missing ? pageHref(page.slug, "edit") : pageHref(page.slug)} className={missing ? "wikilink new" : "wikilink"}>
            {page.title}
          </Link>
          {page.linkCount !== undefined ? (
            <span className="muted">
              {" "}
              · <Link href={pageHref(page.slug, "links-here")}>{plural(page.linkCount, "link")}</Link>
            </span>
          ) : null}
        </li>
      ))}
    </ul>
  );
}
