"use client";

import Link from "next/link";
import { usePathname } from "next/navigation";
import { pageHref } from "../../common/markdown";

/**
 * The 404 of a /wiki/... URL. Next's not-found boundary gets no params, so
 * the page's name comes from the path.
 */
export function MissingPage() {
  const pathname = usePathname();
  const raw = /^\/wiki\/([^/]+)/u.exec(pathname ?? "")?.[1];
  let slug: string | undefined;
  try {
    slug = raw ? decodeURIComponent(raw) : undefined;
  } catch {
    slug = undefined;
  }
  if (!slug) {
    return (
      <section>
        <h1>No such page</h1>
        <p>That is not a name a page can have.</p>
      </section>
    );
  }
  const title = slug.replaceAll("_", " ");
  return (
    <section>
      <h1>{title}</h1>
      <p>
        There is no page called <strong>{title}</strong> yet.
      </p>
      <p className="actions">
        <Link className="button" href={pageHref(slug, "edit")}>
          Create this page
        </Link>{" "}
        <Link href={pageHref(slug, "links-here")}>What links here</Link> ·{" "}
        <Link href={`/search?q=${encodeURIComponent(title)}`}>Search for “{title}”</Link>
      </p>
    </section>
  );
}
