import type { Identity } from "../../protocol/token";
import { ForbiddenError } from "../errors";
import { opsCollectorOf } from "../ops/watch";
import type { Origin } from "../runtime";
import { sessionIdentity } from "./auth";
import { answer } from "./respond";

/** The session's identity if it is an admin's; 401 without a session, 403 for anyone else. */
export async function requireAdmin(origin: Origin, request: Request): Promise<Identity> {
  const identity = await sessionIdentity(origin, request);
  if (identity.role !== "admin") {
    throw new ForbiddenError(`the operations view is for admins, and ${identity.name} is ${identity.role === "reader" ? "a reader" : "an editor"}`);
  }
  return identity;
}

/**
 * GET /api/ops/stream: Server-Sent Events for the /ops page. First a
 * `history` event (the snapshots of the last minutes, so the charts start
 * full), then a `snapshot` event per collection round while the client
 * stays. SSE rather than a WebSocket: one direction is all it needs, it
 * passes through Next's route handlers and proxies as plain HTTP, and
 * EventSource reconnects by itself.
 */
export function handleOpsStream(origin: Origin, request: Request): Promise<Response> {
  return answer(origin, async () => {
    await requireAdmin(origin, request);
    const collector = opsCollectorOf(origin);
    const encoder = new TextEncoder();
    let unwatch: (() => void) | undefined;
    const stop = () => {
      unwatch?.();
      unwatch = undefined;
    };
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        const send = (event: string, data: unknown) => {
          try {
            controller.enqueue(encoder.encode(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`));
          } catch {
            // The client went away between two rounds.
            stop();
          }
        };
        send("history", collector.history());
        unwatch = collector.watch((snapshot) => send("snapshot", snapshot));
        request.signal.addEventListener("abort", () => {
          stop();
          try {
            controller.close();
          } catch {
            // Already closed by the runtime.
          }
        });
      },
      cancel: stop,
    });
    return new Response(stream, {
      headers: {
        "content-type": "text/event-stream; charset=utf-8",
        // no-transform: Next's compression would otherwise gzip the stream
        // and hold events back until a buffer fills.
        "cache-control": "no-cache, no-transform",
        "x-accel-buffering": "no",
      },
    });
  });
}
