import type { PrismaClient } from "./generated/prisma/client";
import { activeBlockOf, blockLog, listActiveBlocks } from "./blocks";
import { userContributions } from "./contributions";
import { listDeletions } from "./deletion";
import { backlinks, existingSlugs, wantedPages } from "./links";
import { readPageView } from "./page-view";
import { getPage } from "./pages";
import { recentChanges } from "./recent-changes";
import { getRevision, listRevisions } from "./revisions";
import { searchPages } from "./search";
import { watchlistChanges } from "./watchlist";

/** An origin operation without its database: what the seam hands out. */
type Bound<F> = F extends (prisma: PrismaClient, ...args: infer A) => infer R ? (...args: A) => R : never;

// The operations keep their own signatures (so they stay in step with
// them); only the database is bound.
function bind<F extends (prisma: PrismaClient, ...args: never[]) => unknown>(prisma: PrismaClient, operation: F): Bound<F> {
  return ((...args: unknown[]) => (operation as unknown as (...all: unknown[]) => unknown)(prisma, ...args)) as Bound<F>;
}

/**
 * What the wiki's pages (app/) read from the origin, bound to its database:
 * the store seam between the two. app/ calls these (through wikiOf) and
 * never Prisma (an ESLint rule keeps it so), so that how the origin stores a
 * page can change without the pages knowing. Writes go through the HTTP API
 * (origin/http/).
 */
export function wikiReads(prisma: PrismaClient) {
  return {
    getPage: bind(prisma, getPage),
    readPageView: bind(prisma, readPageView),
    getRevision: bind(prisma, getRevision),
    listRevisions: bind(prisma, listRevisions),
    existingSlugs: bind(prisma, existingSlugs),
    backlinks: bind(prisma, backlinks),
    wantedPages: bind(prisma, wantedPages),
    recentChanges: bind(prisma, recentChanges),
    searchPages: bind(prisma, searchPages),
    userContributions: bind(prisma, userContributions),
    watchlistChanges: bind(prisma, watchlistChanges),
    activeBlockOf: bind(prisma, activeBlockOf),
    listActiveBlocks: bind(prisma, listActiveBlocks),
    blockLog: bind(prisma, blockLog),
    listDeletions: bind(prisma, listDeletions),
  };
}

export type WikiReads = ReturnType<typeof wikiReads>;

const bound = new WeakMap<object, WikiReads>();

/**
 * The reads of a running origin, bound in the caller's own copy of these
 * modules. Next may load the origin's modules twice (the hosting server's
 * and the pages' bundle): an operation bound by the host would throw the
 * host's error classes, which a page's `instanceof NotFoundError` does not
 * recognise, so each copy binds its own.
 */
export function wikiOf(origin: { readonly db: { readonly prisma: PrismaClient } }): WikiReads {
  let reads = bound.get(origin);
  if (!reads) bound.set(origin, (reads = wikiReads(origin.db.prisma)));
  return reads;
}
