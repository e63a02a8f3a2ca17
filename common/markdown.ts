import markdownIt, { type MarkdownIt, type StateInline } from "markdown-it";
import sanitize from "sanitize-html";
import { findWikiLinks } from "./wikilinks";

/**
 * A page's Markdown as HTML, the same on the server (page view) and in the
 * browser (live view, editor preview). Writers may type some HTML, as on any
 * wiki, so everything markdown-it produces goes through an allowlist
 * sanitizer last: no script, no event handler, no style but table
 * alignment, and no URL scheme but http(s), mailto and relative links
 * survives, whatever a writer typed (issue 4).
 */

export interface RenderOptions {
  /**
   * Slugs of the pages that exist, at least among those the text links to
   * (common/wikilinks.ts `linkedSlugs`); a [[link]] to any other is red.
   */
  existingPages: ReadonlySet<string>;
}

/** The path of a page, or of one of its actions. */
export function pageHref(slug: string, action?: "edit" | "history" | "links-here" | "diff"): string {
  const path = `/wiki/${encodeURIComponent(slug)}`;
  return action ? `${path}/${action}` : path;
}

// The longest `[[target|label]]` findWikiLinks accepts: 2 + 255 + 1 + 255 + 2.
const MAX_WIKI_LINK_LENGTH = 515;

const LABELLED_LINK = /\[\[([^[\]|\n]{1,255})\|([^[\]\n]{0,255})\]\]/gu;
const ESCAPED_PIPE_LINK = /^\[\[[^[\]|\n]{1,255}\\\|/u;

/**
 * A table row splits its cells at every "|", the one in [[Target|label]] too
 * (GFM asks for "\|"). Wiki writers do not escape it, so a row's labelled
 * links get the escape before parsing: only in lines with a "|" outside any
 * link, and the link rule accepts "\|" as the separator.
 */
function escapeLinkPipesInRows(text: string): string {
  if (!text.includes("[[")) return text;
  return text
    .split("\n")
    .map((line) => (line.includes("[[") && line.replace(LABELLED_LINK, "").includes("|") ? line.replace(LABELLED_LINK, "[[$1\\|$2]]") : line))
    .join("\n");
}

/** `[[Target]]` and `[[Target|label]]`, parsed exactly as the origin's Link table sees them. */
function wikiLinkRule(state: StateInline, silent: boolean): boolean {
  const { src, pos } = state;
  if (src.charCodeAt(pos) !== 0x5b || src.charCodeAt(pos + 1) !== 0x5b) return false;
  let candidate = src.slice(pos, Math.min(state.posMax, pos + MAX_WIKI_LINK_LENGTH + 1));
  const escaped = ESCAPED_PIPE_LINK.test(candidate);
  if (escaped) candidate = candidate.replace("\\|", "|");
  const link = findWikiLinks(candidate.slice(0, MAX_WIKI_LINK_LENGTH))[0];
  if (!link || link.start !== 0) return false;
  if (!silent) {
    const open = state.push("wikilink_open", "a", 1);
    open.meta = { target: link.target };
    const text = state.push("text", "", 0);
    text.content = link.label;
    state.push("wikilink_close", "a", -1);
  }
  state.pos += link.end + (escaped ? 1 : 0);
  return true;
}

function createParser(): MarkdownIt {
  // html: raw HTML is passed on to the sanitizer, which keeps the harmless part.
  const md = markdownIt({ html: true, linkify: true, typographer: false });
  md.inline.ruler.before("link", "wikilink", wikiLinkRule);
  md.renderer.rules.wikilink_open = (tokens, index, _options, env) => {
    const target = (tokens[index]!.meta as { target: string }).target;
    const exists = (env as unknown as RenderOptions).existingPages.has(target);
    const href = exists ? pageHref(target) : pageHref(target, "edit");
    const title = exists ? target.replaceAll("_", " ") : `${target.replaceAll("_", " ")} (page does not exist)`;
    return `<a href="${md.utils.escapeHtml(href)}" class="${exists ? "wikilink" : "wikilink new"}" title="${md.utils.escapeHtml(title)}">`;
  };
  md.renderer.rules.wikilink_close = () => "</a>";
  return md;
}

const parser = createParser();

const SAFE_SCHEMES = ["http", "https", "mailto"];

const ALIGNMENT = [/^(left|right|center)$/];

const SANITIZE_OPTIONS: sanitize.IOptions = {
  allowedTags: [
    "h1", "h2", "h3", "h4", "h5", "h6", "p", "br", "hr", "blockquote", "pre", "code",
    "em", "strong", "del", "s", "ins", "sup", "sub", "kbd", "mark", "small", "abbr",
    "ul", "ol", "li", "dl", "dt", "dd", "a", "img",
    "table", "thead", "tbody", "tfoot", "tr", "th", "td", "caption",
    "details", "summary", "span", "div",
  ],
  allowedAttributes: {
    a: ["href", "title", "class", "rel"],
    img: ["src", "alt", "title", "width", "height"],
    abbr: ["title"],
    ol: ["start"],
    th: ["style", "colspan", "rowspan"],
    td: ["style", "colspan", "rowspan"],
    code: ["class"],
  },
  allowedClasses: { a: ["wikilink", "new"], code: ["language-*"] },
  // markdown-it writes table alignment as a style; nothing else may style.
  allowedStyles: { th: { "text-align": ALIGNMENT }, td: { "text-align": ALIGNMENT } },
  allowedSchemes: SAFE_SCHEMES,
  allowedSchemesByTag: { img: ["http", "https"] },
  allowedSchemesAppliedToAttributes: ["href", "src", "cite"],
  allowProtocolRelative: false,
  disallowedTagsMode: "discard",
  transformTags: {
    // A writer's outside link is not an endorsement (MediaWiki does the same).
    a: (tagName, attribs) => {
      const href = attribs.href ?? "";
      return /^(https?:)?\/\//i.test(href)
        ? { tagName, attribs: { ...attribs, rel: "nofollow ugc noopener" } }
        : { tagName, attribs };
    },
  },
};

/** Sanitizes HTML to what a page body may hold. */
export function sanitizePageHtml(html: string): string {
  return sanitize(html, SANITIZE_OPTIONS);
}

/** Renders a page's Markdown to sanitized HTML. */
export function renderMarkdown(text: string, options: RenderOptions): string {
  // markdown-it hands `env` to every rule; a fresh object per render, never shared.
  return sanitizePageHtml(parser.render(escapeLinkPipesInRows(text), { existingPages: options.existingPages }));
}

const SNIPPET_OPTIONS: sanitize.IOptions = { allowedTags: ["mark"], allowedAttributes: {}, disallowedTagsMode: "escape" };

/**
 * A search snippet as HTML. The origin escapes the page's characters and adds
 * only <mark> around matches (origin/search.ts); this keeps exactly that, so
 * a snippet cannot carry markup even if the origin's escaping regressed.
 */
export function renderSearchSnippet(snippet: string): string {
  return sanitize(snippet, SNIPPET_OPTIONS);
}
