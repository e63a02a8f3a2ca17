import { flushBatchSchema } from "../../edge/protocol/flush";
import { mergeBatch } from "../merge";
import type { Origin } from "../runtime";
import { readJson } from "./body";
import { answer } from "./respond";
import { requireEdge } from "./service-auth";

/** POST /api/internal/flush: an edge's batch of merged pages. */
export function handleFlush(origin: Origin, request: Request): Promise<Response> {
  return answer(origin, async () => {
    requireEdge(origin, request);
    const batch = flushBatchSchema.parse(await readJson(request, origin.config.maxBatchBytes));
    const result = await mergeBatch(origin.db.prisma, batch);
    origin.log.debug(
      { batchId: batch.batchId, pop: batch.pop, edge: batch.edge, pages: batch.pages.length, changed: result.changed.length },
      result.answer.duplicate ? "duplicate batch answered" : "batch merged",
    );
    // A batch seen before is announced again: an edge resends a batch when
    // it got no answer, and the origin that committed it may have died
    // before it announced the commit, so that the other PoPs never pulled
    // those pages. Announcing twice costs the PoPs one read each.
    const slugs = result.answer.duplicate ? batch.pages.map((page) => page.slug) : result.changed.map((page) => page.slug);
    if (slugs.length > 0) {
      const commit = { pop: batch.pop, slugs };
      for (const listener of origin.committed) listener(commit);
    }
    return result.answer;
  });
}
