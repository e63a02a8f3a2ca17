import type { Logger } from "../../common/logger";
import type { ActiveBlock } from "../../protocol/blocks";
import { decodeBlockNotice } from "../../protocol/blocks";
import { CloseCode } from "../../protocol/close-codes";
import type { Identity } from "../../protocol/token";
import type { ClientConnection } from "../clients/connection";
import type { EdgeMetrics } from "../metrics";
import { BlockedAccounts } from "./blocks";

/**
 * What a token said when its socket opened can stop being true while the
 * socket stays open: the token expires, or an admin blocks its account.
 * This re-checks the open connections of one replica against both, and
 * answers whether an account may open or write now.
 */
export class ConnectionRechecks {
  private readonly blocked = new BlockedAccounts();
  private rereading = false;
  private listStale = false;

  constructor(
    private readonly deps: {
      connections: Iterable<ClientConnection>;
      /** The origin's list of active blocks (GET /api/internal/blocks). */
      readBlocks: () => Promise<ActiveBlock[]>;
      tokenGraceMs: number;
      metrics: EdgeMetrics;
      log: Logger;
    },
  ) {}

  /** Why `identity`'s account may not write or open a connection now (it is blocked), or undefined. */
  refusal(identity: Identity, now = Date.now()): string | undefined {
    return this.blocked.refusal(identity.userId, now);
  }

  /** Closes the connections whose token expired more than EDGE_TOKEN_GRACE_MS ago, with a code clients reconnect on. */
  closeExpired(now: number): void {
    for (const client of this.deps.connections) {
      const expiresAt = client.identity.expiresAt?.getTime();
      if (expiresAt === undefined || now <= expiresAt + this.deps.tokenGraceMs) continue;
      this.deps.metrics.tokenExpiredCloses.inc();
      client.close(CloseCode.tokenExpired, `your token expired at ${new Date(expiresAt).toISOString()}: reconnect with a fresh one (POST /api/auth/token)`);
    }
  }

  /** A block notice from the broker (at most once: rereadBlocks covers a lost one). */
  blockNoticeHeard(data: Uint8Array): void {
    try {
      this.blocked.apply(decodeBlockNotice(data));
    } catch (error) {
      this.deps.log.warn({ err: error }, "an unreadable block notice: the next recheck of the origin's list enforces it");
      return;
    }
    this.closeBlocked();
  }

  /** Reads the origin's list of blocks again and enforces it. */
  async rereadBlocks(): Promise<void> {
    // One read at a time: a slow origin must not pile them up.
    if (this.rereading) return;
    this.rereading = true;
    this.blocked.readStarted();
    try {
      this.blocked.replaceAll(await this.deps.readBlocks());
    } catch (error) {
      this.blocked.readFailed();
      // Keep the last list: the blocks it holds stay enforced (and end on their own) while the origin is away.
      // Said once per outage, not every EDGE_BLOCK_RECHECK_MS.
      if (!this.listStale) this.deps.log.warn({ err: error }, "could not re-read the blocked accounts from the origin; keeping the last list");
      this.listStale = true;
      return;
    } finally {
      this.rereading = false;
    }
    if (this.listStale) this.deps.log.info({ blocked: this.blocked.size }, "re-read the blocked accounts from the origin again");
    this.listStale = false;
    this.closeBlocked();
  }

  /** Closes the connections of blocked accounts, with a code stock clients do not reconnect on (a block is final). */
  private closeBlocked(): void {
    const now = Date.now();
    for (const client of this.deps.connections) {
      const reason = this.blocked.refusal(client.identity.userId, now);
      if (reason === undefined || client.isClosed) continue;
      this.deps.metrics.blockedCloses.inc();
      client.close(CloseCode.blocked, reason);
    }
  }
}
