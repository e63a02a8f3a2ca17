import { type Slug, titleToSlug } from "./slug";

/** A `[[Target]]` or `[[Target|label]]` in a page's Markdown. */
export interface WikiLink {
  target: Slug;
  label: string;
  /** Offsets of the whole `[[...]]` in the text. */
  start: number;
  end: number;
}

const WIKI_LINK = /\[\[([^[\]|\n]{1,255})(?:\|([^[\]\n]{0,255}))?\]\]/gu;

/** Every well-formed wiki link in `text`; a target that is not a valid title is plain text. */
export function findWikiLinks(text: string): WikiLink[] {
  const links: WikiLink[] = [];
  for (const match of text.matchAll(WIKI_LINK)) {
    const [whole, rawTarget = "", rawLabel] = match;
    let target: Slug;
    try {
      target = titleToSlug(rawTarget);
    } catch {
      continue;
    }
    const label = rawLabel?.trim() || rawTarget.trim();
    links.push({ target, label, start: match.index, end: match.index + whole.length });
  }
  return links;
}

/** The distinct pages `text` links to. */
export function linkedSlugs(text: string): Slug[] {
  return [...new Set(findWikiLinks(text).map((link) => link.target))];
}
