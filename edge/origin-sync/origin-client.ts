import { type ActiveBlock, blockListSchema } from "../../protocol/blocks";
import { type DeletedPage, deletedPagesSchema } from "../../protocol/deletions";
import {
  type FlushAnswer,
  flushAnswerSchema,
  type FlushBatch,
  type PageState,
  pageStateSchema,
} from "../../protocol/flush";

/** The origin could not be reached or failed: the edge keeps the data and retries. */
export class OriginUnavailableError extends Error {
  override name = "OriginUnavailableError";
  constructor(
    message: string,
    options?: ErrorOptions & {
      /** The status the origin answered (5xx), or undefined when it could not be reached. */
      status?: number;
    },
  ) {
    super(message, options);
    this.status = options?.status;
  }
  readonly status: number | undefined;
}

/** The origin refused what the edge sent (4xx): retrying the same bytes will not help. */
export class OriginRefusedError extends Error {
  override name = "OriginRefusedError";
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface OriginClient {
  flush(batch: FlushBatch): Promise<FlushAnswer>;
  /** The page as the origin holds it; with `since` (a state vector), its state holds only what that vector lacks. */
  pageState(slug: string, since?: Uint8Array): Promise<PageState>;
  /** The accounts blocked now (GET /api/internal/blocks). */
  blocks(): Promise<ActiveBlock[]>;
  /** Which of `slugs` an admin deleted (POST /api/internal/deleted-pages). */
  deletedPages(slugs: string[]): Promise<DeletedPage[]>;
  /** Counts of calls, for metrics and for tests that prove what did not happen. */
  readonly calls: { flush: number; pageState: number };
}

/** The origin's internal API over HTTP, authenticated with the edge service secret. */
export function createOriginClient(options: { originUrl: string; serviceSecret: string; timeoutMs?: number }): OriginClient {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const calls = { flush: 0, pageState: 0 };

  async function call(path: string, init: RequestInit): Promise<unknown> {
    const url = `${options.originUrl}${path}`;
    let response: Response | undefined;
    // Every call is idempotent (a flush by its batch id), so a request that
    // failed before an answer is sent once more: a kept-alive socket the
    // origin closed at the same moment ("other side closed") is common.
    for (let attempt = 1; !response; attempt++) {
      try {
        response = await fetch(url, {
          ...init,
          headers: { authorization: `Bearer ${options.serviceSecret}`, "content-type": "application/json" },
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (error) {
        if (attempt < 2 && !(error instanceof DOMException && error.name === "TimeoutError")) continue;
        throw new OriginUnavailableError(`origin ${url} unreachable: ${(error as Error).message}`, { cause: error });
      }
    }
    const text = await response.text();
    if (response.status >= 500) throw new OriginUnavailableError(`origin ${url} answered ${response.status}: ${text.slice(0, 300)}`, { status: response.status });
    if (!response.ok) throw new OriginRefusedError(response.status, `origin ${url} refused with ${response.status}: ${text.slice(0, 300)}`);
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new OriginUnavailableError(`origin ${url} answered something that is not JSON: ${text.slice(0, 120)}`, { cause: error });
    }
  }

  return {
    calls,
    async flush(batch) {
      calls.flush += 1;
      return flushAnswerSchema.parse(await call("/api/internal/flush", { method: "POST", body: JSON.stringify(batch) }));
    },
    async pageState(slug, since) {
      calls.pageState += 1;
      const query = since ? `?since=${Buffer.from(since.buffer, since.byteOffset, since.byteLength).toString("base64url")}` : "";
      return pageStateSchema.parse(await call(`/api/internal/pages/${encodeURIComponent(slug)}/state${query}`, { method: "GET" }));
    },
    async blocks() {
      return blockListSchema.parse(await call("/api/internal/blocks", { method: "GET" })).blocks;
    },
    async deletedPages(slugs) {
      return deletedPagesSchema.parse(await call("/api/internal/deleted-pages", { method: "POST", body: JSON.stringify({ slugs }) })).deleted;
    },
  };
}
