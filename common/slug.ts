/**
 * Page titles and slugs, as a wiki maps them: "the red wedding" is the page
 * "The_red_wedding", shown as "The red wedding". A slug is the room name on
 * the wire and the key of a page everywhere, so it is parsed once, here.
 */

export type Slug = string & { readonly __brand: "Slug" };

export const MAX_SLUG_BYTES = 255;

// Characters a title may not hold: they mean something in URLs or in
// [[wiki links]] (MediaWiki forbids the same set). Broker subjects encode the
// slug, so "." and "*" are fine here.
// eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
const FORBIDDEN = /[#<>[\]{}|/\\?%\u0000-\u001f\u007f]/u;

// Invisible characters that make two titles look alike or a title read in
// another order than it is stored ("Trojan Source"): zero-width spaces and
// joiners, the byte order mark, soft hyphen, and the bidi marks, embeddings,
// overrides and isolates. Scripts that need ZWNJ/ZWJ in words lose them in titles.
const INVISIBLE = /[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/u;

export class SlugError extends Error {
  override name = "SlugError";
}

export function titleToSlug(title: string): Slug {
  const collapsed = title.trim().replace(/[\s_]+/gu, " ").trim();
  if (collapsed.length === 0) throw new SlugError("a page title may not be empty");
  const slug = (collapsed[0]!.toLocaleUpperCase("en") + collapsed.slice(1)).replaceAll(" ", "_");
  return parseSlug(slug);
}

/** Validates a slug as it arrives from a URL or a message. */
export function parseSlug(input: string): Slug {
  const slug = input.normalize("NFC");
  if (slug.length === 0) throw new SlugError("a page slug may not be empty");
  if (Buffer.byteLength(slug, "utf8") > MAX_SLUG_BYTES) {
    throw new SlugError(`a page slug may hold at most ${MAX_SLUG_BYTES} bytes, got ${Buffer.byteLength(slug, "utf8")}`);
  }
  const bad = FORBIDDEN.exec(slug);
  if (bad) throw new SlugError(`a page slug may not contain ${JSON.stringify(bad[0])}: ${JSON.stringify(input)}`);
  const invisible = INVISIBLE.exec(slug);
  if (invisible) {
    const codePoint = `U+${invisible[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`;
    throw new SlugError(`a page slug may not contain the invisible or direction-changing character ${codePoint}: ${JSON.stringify(input)}`);
  }
  if (/\s/u.test(slug)) throw new SlugError(`a page slug uses "_" for spaces: ${JSON.stringify(input)}`);
  if (slug.startsWith("_") || slug.endsWith("_") || slug.includes("__")) {
    throw new SlugError(`a page slug may not start or end with "_" or repeat it: ${JSON.stringify(input)}`);
  }
  const first = slug[0]!;
  if (first !== first.toLocaleUpperCase("en")) {
    throw new SlugError(`a page slug starts with a capital letter: ${JSON.stringify(input)}`);
  }
  return slug as Slug;
}

export function slugToTitle(slug: Slug): string {
  return slug.replaceAll("_", " ");
}

/**
 * The slugs a typed page-name prefix matches the start of: "the red " matches
 * "The_red_wedding". As titleToSlug, but a trailing space is kept (it says
 * "a whole word"), and an empty prefix is refused.
 */
export function titlePrefixToSlugPrefix(prefix: string): string {
  const collapsed = prefix.trimStart().replace(/[\s_]+/gu, "_");
  if (collapsed.length === 0) throw new SlugError("a page-name prefix may not be empty");
  if (collapsed.length > MAX_SLUG_BYTES) throw new SlugError(`a page-name prefix may hold at most ${MAX_SLUG_BYTES} characters`);
  const bad = FORBIDDEN.exec(collapsed) ?? INVISIBLE.exec(collapsed);
  if (bad) throw new SlugError(`no page name contains ${JSON.stringify(bad[0])}: ${JSON.stringify(prefix)}`);
  return (collapsed[0]!.toLocaleUpperCase("en") + collapsed.slice(1)).normalize("NFC");
}
