import type { Logger } from "../../common/logger";
import { CloseCode } from "../../protocol/close-codes";
import { movedCloseReason, movedPageMessage } from "../../protocol/moved-page";
import type { Identity } from "../../protocol/token";
import type { ConnectionRechecks } from "../auth/connection-rechecks";
import { writePermission } from "../auth/permissions";
import { createEditRateLimiter } from "../auth/rate-limit";
import type { EdgeConfig } from "../config";
import type { EdgeMetrics } from "../metrics";
import type { Flusher } from "../origin-sync/flusher";
import type { Page } from "../pages/page";
import { PageSizeLimit } from "../pages/page-size";
import type { QueueLimits } from "./connection-host";
import type { RateLimits } from "./token-bucket";

export interface ConnectionChecksDeps {
  config: EdgeConfig;
  rechecks: ConnectionRechecks;
  flusher: Flusher;
  /** Whether the replica is draining: it takes no more edits. */
  draining: () => boolean;
  /** Bytes the origin has not acknowledged, over every page held (measured once a second). */
  unflushedBytes: () => number;
  metrics: EdgeMetrics;
  log: Logger;
}

/**
 * What a replica lets its clients do: open a connection (blocks, deleted
 * and moved pages), write (permissions, capacity, page size, edit rate) and
 * how much they may read and queue. Each answer is a reason a client can
 * read, or undefined when it may.
 */
export class ConnectionChecks {
  private readonly rateLimiter = createEditRateLimiter();
  private readonly pageSize: PageSizeLimit;

  constructor(private readonly deps: ConnectionChecksDeps) {
    this.pageSize = new PageSizeLimit(deps.config.maxPageBytes);
  }

  /** Why `identity` may not write `page`, or undefined when it may. */
  refusal(identity: Identity, page: Page): string | undefined {
    if (this.deps.draining()) return "this replica is shutting down: reconnect to another replica of the PoP";
    // Between the delete and the close of this connection (a notice's flight, or a recheck).
    if (page.deleted !== undefined) return page.deleted;
    if (page.movedTo !== undefined) return movedPageMessage(page.movedTo);
    const blocked = this.deps.rechecks.refusal(identity);
    if (blocked !== undefined) return blocked;
    const permission = writePermission(identity, page.protection);
    return permission.allowed ? undefined : permission.reason;
  }

  /** Why `identity` may not open a connection here (its account is blocked), or undefined. */
  blockedReason(identity: Identity): string | undefined {
    const reason = this.deps.rechecks.refusal(identity);
    if (reason !== undefined) this.deps.metrics.blockedCloses.inc();
    return reason;
  }

  /** Why no connection may open to `page` (an admin deleted it, or it was moved), with its close code, or undefined. */
  goneReason(page: Page): { code: number; reason: string } | undefined {
    const gone =
      page.movedTo !== undefined
        ? { code: CloseCode.pageMoved, reason: movedCloseReason(page.movedTo) }
        : page.deleted !== undefined
          ? { code: CloseCode.pageDeleted, reason: page.deleted }
          : undefined;
    if (gone) this.deps.metrics.deletedPageCloses.inc();
    return gone;
  }

  overCapacity(): string | undefined {
    const limit = this.deps.config.maxUnflushedBytes;
    const unflushed = this.deps.unflushedBytes();
    if (unflushed <= limit) return undefined;
    const held = this.deps.flusher.heldPages().size;
    const why = held > 0 ? `the origin refuses ${held} page(s), see the edge log` : "is the origin down?";
    return `this replica holds ${unflushed} bytes the origin has not taken (limit ${limit}; ${why}): retry later`;
  }

  pageTooLarge(page: Page, update: Uint8Array): string | undefined {
    const refusal = this.pageSize.refusal(page, update);
    if (refusal) this.deps.log.warn({ slug: page.slug, bytes: update.byteLength, limit: this.pageSize.maxBytes }, `refused an update: ${refusal}`);
    return refusal;
  }

  editWaitMs(identity: Identity): number {
    if (!this.deps.config.rateLimit) return 0;
    const decision = this.rateLimiter.take(identity);
    return decision.allowed ? 0 : decision.retryAfterMs;
  }

  get floodCloseMs(): number {
    return this.deps.config.floodCloseMs;
  }

  get readLimits(): RateLimits | undefined {
    const { rateLimit, readRate, readBurst } = this.deps.config;
    return rateLimit ? { perSecond: readRate, burst: readBurst } : undefined;
  }

  get queueLimits(): QueueLimits {
    return { messages: this.deps.config.maxQueuedMessages, bytes: this.deps.config.maxQueuedBytes };
  }
}
