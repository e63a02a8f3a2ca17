import Link from "next/link";
import { pageHref, renderSearchSnippet } from "../../common/markdown";
import { formatTime } from "../format";

export interface SearchRow {
  slug: string;
  title: string;
  /** The origin's snippet: escaped text with <mark> around matches. */
  snippet: string;
  updatedAt: string;
}

export function SearchResults({ results }: { results: SearchRow[] }) {
  return (
    <ol className="search-results">
      {results.map((result) => (
        <li key={result.slug} data-testid="search-result">
          <Link href={pageHref(result.slug)} className="title">
            {result.title}
          </Link>
          {/* renderSearchSnippet keeps <mark> and nothing else. */}
          <p className="snippet" dangerouslySetInnerHTML={{ __html: renderSearchSnippet(result.snippet) }} />
          <p className="muted small">Updated {formatTime(result.updatedAt)}</p>
        </li>
      ))}
    </ol>
  );
}
