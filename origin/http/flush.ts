import { z } from "zod";
import { type FlushBatch, flushBatchSchema } from "../../protocol/flush";
import { OriginError } from "../errors";
import { mergeBatch, type MergeResult } from "../merge";
import type { Origin } from "../runtime";
import { readJson } from "./body";
import { answer } from "./respond";
import { requireEdge } from "./service-auth";

/** POST /api/internal/flush: an edge's batch of merged pages. */
export function handleFlush(origin: Origin, request: Request): Promise<Response> {
  return answer(origin, async () => {
    requireEdge(origin, request);
    const { batch, result } = await countedMerge(origin, request);
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

/** Reads and merges a batch, counted in the origin's metrics (the ops view's origin figures). */
async function countedMerge(origin: Origin, request: Request): Promise<{ batch: FlushBatch; result: MergeResult }> {
  const { metrics } = origin;
  const started = performance.now();
  try {
    const batch = flushBatchSchema.parse(await readJson(request, origin.config.maxBatchBytes));
    const result = await mergeBatch(origin.db.prisma, batch, { maxPageBytes: origin.config.maxPageBytes });
    metrics.mergeSeconds.observe((performance.now() - started) / 1000);
    if (result.answer.duplicate) {
      metrics.batches.inc({ result: "duplicate" });
    } else {
      metrics.batches.inc({ result: "merged" });
      metrics.pages.inc(batch.pages.length);
      metrics.edits.inc(batch.pages.reduce((sum, page) => sum + page.editCount, 0));
      metrics.pageUpdates.inc(result.changed.length);
    }
    for (const refused of result.refused) {
      metrics.clientIdRefusals.inc({ reason: refused.reason }, refused.clients.length);
      origin.log.warn(
        { batchId: batch.batchId, pop: batch.pop, edge: batch.edge, ...refused },
        refused.reason === "claimed"
          ? "flush: structs under client ids the origin knows as another user's were left out (two writers used one id)"
          : "flush: structs with other content at clocks the origin holds were left out (one client id used for two contents at once)",
      );
    }
    return { batch, result };
  } catch (error) {
    const refused = error instanceof z.ZodError || (error instanceof OriginError && error.status < 500);
    metrics.errors.inc({ reason: refused ? "refused" : "failed" });
    throw error;
  }
}
