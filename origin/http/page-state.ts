import * as Y from "yjs";
import { BadRequestError } from "../errors";
import { readPageState } from "../page-state";
import type { Origin } from "../runtime";
import { slugParam } from "./params";
import { answer } from "./respond";
import { requireEdge } from "./service-auth";

/** GET /api/internal/pages/:slug/state[?since=<base64url state vector>]; `params.slug` as Next decoded it from the path. */
export function handlePageState(origin: Origin, request: Request, params: { slug: string }): Promise<Response> {
  return answer(origin, async () => {
    requireEdge(origin, request);
    const since = new URL(request.url).searchParams.get("since");
    return readPageState(origin.db.prisma, slugParam(params.slug), since === null ? undefined : stateVectorParam(since));
  });
}

function stateVectorParam(raw: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]*$/u.test(raw)) throw new BadRequestError(`since: must be a state vector in base64url, got ${JSON.stringify(raw.slice(0, 40))}`);
  const vector = new Uint8Array(Buffer.from(raw, "base64url"));
  try {
    Y.decodeStateVector(vector);
  } catch (error) {
    throw new BadRequestError(`since: not a Yjs state vector (${(error as Error).message})`, { cause: error });
  }
  return vector;
}
