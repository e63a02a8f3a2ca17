import { textFingerprint } from "../../common/page-text";
import { choosePop, type EdgeEndpoint } from "../edges";

/** What an edge answers for a page it holds (edge/reads/page-reads.ts). */
interface EdgeRead {
  text: string;
  revision: number;
}

/** A PoP has a few replicas; a longer list is asked only this far. */
const MAX_REPLICAS_ASKED = 8;

/** The HTTP address of an edge from the WebSocket URL it advertises (its reads share the port). */
export function edgeHttpUrl(edge: EdgeEndpoint): string {
  return edge.url.replace(/^ws(s?):\/\//u, "http$1://").replace(/\/+$/u, "");
}

/**
 * The page's text as the nearest edge holds it, when that is newer than the
 * copy the reader was served: a page view may come from a shared cache up to
 * s-maxage + stale-while-revalidate old, or from an origin whose text trails
 * the edges' unflushed edits, while a replica of the reader's PoP that holds
 * the page has every edit acknowledged there. Newer means another text at the
 * same or a later version: an edge's `revision` is the origin's version of
 * the page as of its last flush or load, the same count as the view's
 * `version`, so a lower one is an edge that lags (it has not heard another
 * PoP's flush yet) and is not shown.
 * Undefined when no edge of the PoP holds the page (404), or it holds the
 * same text, or it cannot be asked.
 */
export async function newerEdgeText(options: {
  slug: string;
  /** The served text's version (PageView.version). */
  version: number;
  fingerprint: string;
  edges: readonly EdgeEndpoint[];
  pop: string | undefined;
  fetchImpl?: typeof fetch;
}): Promise<{ text: string; pop: string } | undefined> {
  const pop = choosePop(options.edges, options.pop);
  // Only the PoP's replicas that hold the page answer (the others say 404
  // not_held): ask each, at once, and keep the newest answer.
  const replicas = options.edges.filter((candidate) => candidate.pop === pop).slice(0, MAX_REPLICAS_ASKED);
  if (pop === undefined || replicas.length === 0) return undefined;
  const fetchImpl = options.fetchImpl ?? ((input, init) => fetch(input, init));
  const answers = await Promise.all(
    replicas.map(async (edge) => {
      try {
        const response = await fetchImpl(`${edgeHttpUrl(edge)}/pages/${encodeURIComponent(options.slug)}`);
        return response.ok ? ((await response.json()) as EdgeRead) : undefined;
      } catch {
        return undefined;
      }
    }),
  );
  // Every holder is current as of its revision plus the edits it has heard
  // since, and holders of one PoP hear each other's within a fan-out window:
  // any that holds another text at the served version or later is newer.
  const read = answers
    .filter((answer): answer is EdgeRead => typeof answer?.text === "string" && typeof answer.revision === "number")
    .filter((answer) => answer.revision >= options.version && textFingerprint(answer.text) !== options.fingerprint)
    .sort((a, b) => b.revision - a.revision || b.text.length - a.text.length)[0];
  if (!read) return undefined;
  return { text: read.text, pop };
}
