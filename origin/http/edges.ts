import { OriginError } from "../errors";
import type { Origin } from "../runtime";
import { answer } from "./respond";

/** GET /api/edges: `[{ pop, replica, url }]`, the edges a client may connect to. */
export function handleListEdges(origin: Origin): Promise<Response> {
  return answer(origin, async () => {
    if (!origin.edges) {
      throw new OriginError(503, "no_broker", "this origin hears no broker, so it knows no edges: set NATS_URL (self-hosted) or use npm start");
    }
    return origin.edges.list().map(({ pop, replica, url, state }) => ({ pop, replica, url, state }));
  });
}
