import Link from "next/link";
import { Fragment } from "react";

/** Where a user's contributions are listed. */
export function contributionsHref(name: string): string {
  return `/contributions/${encodeURIComponent(name)}`;
}

/** A revision's authors, each linked to their contributions. */
export function AuthorLinks({ authors }: { authors: string[] }) {
  if (authors.length === 0) return <>—</>;
  return (
    <>
      {authors.map((author, index) => (
        <Fragment key={author}>
          {index > 0 ? ", " : null}
          <Link href={contributionsHref(author)} className="author">
            {author}
          </Link>
        </Fragment>
      ))}
    </>
  );
}
