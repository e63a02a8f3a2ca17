import { z } from "zod";
import type { Logger } from "../../common/logger";
import { OriginError, PageMovedError, TooManyRequestsError } from "../errors";
import type { Origin } from "../runtime";

export function json(body: unknown, init: ResponseInit = {}): Response {
  const headers = new Headers(init.headers);
  headers.set("content-type", "application/json; charset=utf-8");
  return new Response(JSON.stringify(body), { ...init, headers });
}

/**
 * Every handler's errors become responses here, once: domain errors keep
 * their status and message, zod errors are 400 with the path that failed,
 * anything else is logged and answered 500 without internals.
 */
export function errorResponse(error: unknown, log: Logger): Response {
  if (error instanceof TooManyRequestsError) {
    const retryAfter = String(Math.max(1, Math.ceil(error.retryAfterSeconds)));
    return json({ error: error.code, message: error.message }, { status: error.status, headers: { "retry-after": retryAfter } });
  }
  if (error instanceof PageMovedError) {
    return json(
      { error: error.code, message: error.message, to: error.to },
      { status: error.status, headers: { location: `/api/pages/${encodeURIComponent(error.to)}` } },
    );
  }
  if (error instanceof OriginError) {
    return json({ error: error.code, message: error.message }, { status: error.status });
  }
  if (error instanceof z.ZodError) {
    const message = error.issues.map((issue) => `${issue.path.join(".") || "body"}: ${issue.message}`).join("; ");
    return json({ error: "bad_request", message }, { status: 400 });
  }
  log.error({ err: error }, "request failed");
  return json({ error: "internal", message: "the origin failed to handle this request; see its log" }, { status: 500 });
}

/** Runs one operation and answers its result (as JSON unless it is a Response), or its error. */
export async function answer(origin: Origin, operation: () => Promise<unknown>): Promise<Response> {
  try {
    const result = await operation();
    return result instanceof Response ? result : json(result);
  } catch (error) {
    return errorResponse(error, origin.log);
  }
}
