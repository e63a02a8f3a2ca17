import { BadRequestError } from "./errors";
import type { PrismaClient } from "./generated/prisma/client";

export const SEARCH_DEFAULT_LIMIT = 20;
export const SEARCH_MAX_LIMIT = 100;
export const SEARCH_MAX_QUERY_LENGTH = 500;

export interface SearchResult {
  slug: string;
  title: string;
  /**
   * An excerpt of the page's text as HTML: the page's own characters escaped,
   * the matched words wrapped in <mark>...</mark> and nothing else.
   */
  snippet: string;
  updatedAt: string;
}

interface SearchRow {
  slug: string;
  title: string;
  snippet: string;
  updatedAt: Date;
}

// ts_headline copies the document's characters as they are, so the text is
// escaped before it goes in: then the only markup in a snippet is the
// StartSel/StopSel pair ts_headline adds around matches.
const HEADLINE_OPTIONS = "StartSel=<mark>, StopSel=</mark>, MaxWords=35, MinWords=15, MaxFragments=2, FragmentDelimiter=\" … \"";

/**
 * Full-text search over titles and texts, plus a title prefix match: stop
 * words ("The", "It") vanish from a tsquery, and a page should still be found
 * by its name. Exact titles come first, then title prefixes, then by ts_rank.
 *
 * It reads the pages' search copies (PageSearch, origin/search-refresh.ts),
 * through the GIN index over weirwood_search_document(title, text): the
 * query must name that same expression for the planner to use the index.
 * A page under continuous editing is found by its text as of at most
 * ORIGIN_SEARCH_REFRESH_MS ago, a page edited then left alone within
 * seconds of its text refresh.
 */
export async function searchPages(
  prisma: PrismaClient,
  options: { query: string; limit?: number },
): Promise<SearchResult[]> {
  const query = options.query.trim();
  if (query.length === 0) throw new BadRequestError("search: q must hold at least one word");
  if (query.length > SEARCH_MAX_QUERY_LENGTH) {
    throw new BadRequestError(`search: q may hold at most ${SEARCH_MAX_QUERY_LENGTH} characters, got ${query.length}`);
  }
  const limit = Math.min(options.limit ?? SEARCH_DEFAULT_LIMIT, SEARCH_MAX_LIMIT);
  // "jon_snow" and "Jon  Snow" both name the page titled "Jon Snow".
  const title = query.replace(/[\s_]+/gu, " ");
  const titlePrefix = `${escapeLike(title)}%`;
  // The headline, the costly part, is computed for the page of results only.
  const rows = await prisma.$queryRaw<SearchRow[]>`
    WITH q AS (SELECT websearch_to_tsquery('english', ${query}) AS tsq),
    hits AS (
      SELECT p.slug, p.title, s.text, p."updatedAt",
             lower(s.title) = lower(${title}) AS "exactTitle",
             s.title ILIKE ${titlePrefix} ESCAPE '!' AS "titlePrefix",
             ts_rank(weirwood_search_document(s.title, s.text), q.tsq) AS rank
      FROM "PageSearch" s JOIN "Page" p ON p.id = s."pageId", q
      WHERE (weirwood_search_document(s.title, s.text) @@ q.tsq OR s.title ILIKE ${titlePrefix} ESCAPE '!')
        AND p."deletedAt" IS NULL
      ORDER BY "exactTitle" DESC, "titlePrefix" DESC, rank DESC, p."updatedAt" DESC, p.slug
      LIMIT ${limit}
    )
    SELECT hits.slug, hits.title, hits."updatedAt",
           ts_headline(
             'english',
             replace(replace(replace(replace(replace(hits.text,
               '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), '"', '&quot;'), '''', '&#39;'),
             q.tsq,
             ${HEADLINE_OPTIONS}
           ) AS snippet
    FROM hits, q
    ORDER BY hits."exactTitle" DESC, hits."titlePrefix" DESC, hits.rank DESC, hits."updatedAt" DESC, hits.slug`;
  return rows.map((row) => ({
    slug: row.slug,
    title: row.title,
    snippet: row.snippet,
    updatedAt: row.updatedAt.toISOString(),
  }));
}

/** Makes `text` match itself literally in a LIKE pattern with ESCAPE '!'. */
function escapeLike(text: string): string {
  return text.replace(/[!%_]/gu, "!$&");
}
