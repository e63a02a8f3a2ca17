import type { Origin } from "../runtime";
import { json } from "./respond";

/** GET /healthz: the process answers. */
export function handleHealth(): Response {
  return json({ ok: true });
}

/** GET /readyz: the database answers (and, when linked, the broker has been heard). */
export async function handleReady(origin: Origin): Promise<Response> {
  try {
    await origin.db.prisma.$queryRaw`SELECT 1`;
    return json({ ready: true, database: origin.db.kind, edges: origin.edges?.list().length ?? null });
  } catch (error) {
    origin.log.warn({ err: error }, "readyz: the database does not answer");
    return json({ ready: false, message: `the database does not answer: ${(error as Error).message}` }, { status: 503 });
  }
}
