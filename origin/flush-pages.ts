import * as Y from "yjs";
import { readStructs, type UpdateStructs } from "../common/client-structs";
import { parseSlug, type Slug, SlugError } from "../common/slug";
import { type FlushBatch, fromBase64 } from "../protocol/flush";
import { BadRequestError } from "./errors";

/*
 * A flush batch's pages as the merge takes them (origin/merge.ts): decoded
 * and checked before anything is written, and under the names the pages
 * have now.
 */

/** A page of a batch once its bytes are decoded and checked. */
export interface DecodedPage {
  slug: Slug;
  update: Uint8Array;
  stateVector: Uint8Array;
  editCount: number;
  authors: string[];
  logSequence: bigint | undefined;
  structs: UpdateStructs;
  /** Whose each client id of the update is, as the edge knew it. */
  claims: Map<number, string>;
}

/** The batch's pages, each decoded and checked; a bad one refuses the batch with 400 naming it. */
export function decodePages(batch: FlushBatch): DecodedPage[] {
  const seen = new Set<string>();
  return batch.pages.map((page, index) => {
    const where = `pages[${index}] (${JSON.stringify(page.slug)})`;
    let slug: Slug;
    try {
      slug = parseSlug(page.slug);
    } catch (error) {
      if (error instanceof SlugError) throw new BadRequestError(`${where}: ${error.message}`);
      throw error;
    }
    if (seen.has(slug)) throw new BadRequestError(`${where}: the page appears twice in one batch; merge its updates first`);
    seen.add(slug);
    const update = fromBase64(page.update);
    const stateVector = fromBase64(page.stateVector);
    let structs: UpdateStructs;
    try {
      // Decoding walks every struct and delete set: a truncated or garbled
      // update fails here, before anything is written.
      structs = readStructs(update);
    } catch (error) {
      throw new BadRequestError(`${where}: update is not a valid Yjs update (${(error as Error).message})`, { cause: error });
    }
    try {
      Y.decodeStateVector(stateVector);
    } catch (error) {
      throw new BadRequestError(`${where}: stateVector is not a valid Yjs state vector (${(error as Error).message})`, {
        cause: error,
      });
    }
    return {
      slug,
      update,
      stateVector,
      editCount: page.editCount,
      authors: [...new Set(page.authors)],
      logSequence: page.logSequence === undefined ? undefined : BigInt(page.logSequence),
      structs,
      claims: new Map(page.claims ?? []),
    };
  });
}

/**
 * The batch's pages under their names now: an old name of a moved page
 * becomes the page's name, and when the batch also carries the page under
 * that name (a replica holding both while its clients moved over), the two
 * are one page: their updates merged, counts and authors summed.
 */
export function underCurrentNames(sent: DecodedPage[], moved: Map<string, Slug>): DecodedPage[] {
  if (moved.size === 0) return sent;
  const byName = new Map<Slug, DecodedPage[]>();
  for (const page of sent) {
    const name = moved.get(page.slug) ?? page.slug;
    byName.set(name, [...(byName.get(name) ?? []), page]);
  }
  return [...byName].map(([slug, group]) => {
    if (group.length === 1) return { ...group[0]!, slug };
    const update = Y.mergeUpdates(group.map((page) => page.update));
    const sequences = group.flatMap((page) => (page.logSequence === undefined ? [] : [page.logSequence]));
    return {
      slug,
      update,
      stateVector: Y.encodeStateVectorFromUpdate(update),
      editCount: group.reduce((sum, page) => sum + page.editCount, 0),
      authors: [...new Set(group.flatMap((page) => page.authors))],
      logSequence: sequences.length === 0 ? undefined : sequences.reduce((a, b) => (a > b ? a : b)),
      structs: readStructs(update),
      claims: new Map(group.flatMap((page) => [...page.claims])),
    };
  });
}
