import Link from "next/link";
import { pageHref } from "@/common/markdown";
import { SlugError, titleToSlug } from "@/common/slug";
import { SearchResults } from "@/components/lists/SearchResults";
import { getOrigin } from "@/origin/runtime";
import { wikiOf } from "@/origin/wiki-reads";
import { SEARCH_MAX_QUERY_LENGTH } from "@/origin/search";

export const dynamic = "force-dynamic";
export const metadata = { title: "Search" };

type Props = { searchParams: Promise<{ q?: string | string[] }> };

function slugFor(query: string): string | null {
  try {
    return titleToSlug(query);
  } catch (error) {
    if (error instanceof SlugError) return null;
    throw error;
  }
}

export default async function SearchPage({ searchParams }: Props) {
  const { q } = await searchParams;
  const query = (typeof q === "string" ? q : "").trim().slice(0, SEARCH_MAX_QUERY_LENGTH);
  const results = query ? await wikiOf(await getOrigin()).searchPages({ query, limit: 50 }) : [];
  const slug = query ? slugFor(query) : null;
  const exact = slug !== null && results.some((result) => result.slug === slug);
  return (
    <section>
      <h1>Search</h1>
      <form action="/search" method="get" className="search-page-form" role="search">
        <input type="search" name="q" defaultValue={query} aria-label="Search words" autoFocus={!query} />
        <button type="submit" className="button">
          Search
        </button>
      </form>
      {query ? (
        <>
          {slug && !exact ? (
            <p>
              No page is called “{query}”.{" "}
              <Link href={pageHref(slug, "edit")} className="wikilink new">
                Create it
              </Link>
            </p>
          ) : null}
          {results.length > 0 ? (
            <SearchResults results={results} />
          ) : (
            <p className="muted" data-testid="no-results">
              Nothing matches “{query}”.
            </p>
          )}
        </>
      ) : null}
    </section>
  );
}
