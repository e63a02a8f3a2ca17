import { readPageState } from "../page-state";
import type { Origin } from "../runtime";
import { slugParam } from "./params";
import { answer } from "./respond";
import { requireEdge } from "./service-auth";

/** GET /api/internal/pages/:slug/state; `params.slug` as Next decoded it from the path. */
export function handlePageState(origin: Origin, request: Request, params: { slug: string }): Promise<Response> {
  return answer(origin, async () => {
    requireEdge(origin, request);
    return readPageState(origin.db.prisma, slugParam(params.slug));
  });
}
