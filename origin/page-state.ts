import * as Y from "yjs";
import type { Slug } from "../common/slug";
import { type PageState, toBase64 } from "../edge/protocol/flush";
import type { PrismaClient } from "./generated/prisma/client";

/**
 * A page as a Yjs update, for an edge that bootstraps it and no peer has it.
 * A page that does not exist yet is an empty document: the first flush
 * creates it.
 */
export async function readPageState(prisma: PrismaClient, slug: Slug): Promise<PageState> {
  const page = await prisma.page.findUnique({
    where: { slug },
    select: { state: true, stateVector: true, protection: true, revisionCount: true },
  });
  if (!page) {
    const empty = new Y.Doc();
    return {
      slug,
      exists: false,
      protection: "none",
      state: toBase64(Y.encodeStateAsUpdate(empty)),
      stateVector: toBase64(Y.encodeStateVector(empty)),
      revision: 0,
    };
  }
  return {
    slug,
    exists: true,
    protection: page.protection,
    state: toBase64(page.state),
    stateVector: toBase64(page.stateVector),
    revision: page.revisionCount,
  };
}
