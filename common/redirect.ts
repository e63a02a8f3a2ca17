import { type Slug, SlugError, titleToSlug } from "./slug";

/**
 * A redirect page, as MediaWiki writes one: its text starts with
 * `#REDIRECT [[Target]]` (any case, an optional colon, a `|label` or
 * `#section` ignored). Whatever follows is the page's own text.
 */
export interface RedirectLine {
  target: Slug;
  /** The text after the redirect line. */
  rest: string;
}

const REDIRECT = /^\s*#redirect[ \t]*:?[ \t]*\[\[([^[\]|\n]{1,255})(?:\|[^[\]\n]{0,255})?\]\]/iu;

/** The redirect `text` starts with, or null when it is an ordinary page (or names no valid title). */
export function parseRedirect(text: string): RedirectLine | null {
  const match = REDIRECT.exec(text);
  if (!match) return null;
  // "Target#Section": the section is where MediaWiki scrolls to; the page is the target.
  const title = match[1]!.split("#")[0]!;
  try {
    return { target: titleToSlug(title), rest: text.slice(match[0].length) };
  } catch (error) {
    if (error instanceof SlugError) return null;
    throw error;
  }
}
