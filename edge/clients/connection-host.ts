import type { Logger } from "../../common/logger";
import type { Page } from "../pages/page";
import type { ClientIdVerdict } from "../pages/client-ids";
import type { DurabilityLevel } from "../../protocol/messages";
import type { Identity } from "../../protocol/token";
import type { PresenceLimits, PresenceResult } from "./presence";
import type { SlowClients } from "./slow-clients";
import type { RateLimits } from "./token-bucket";

/**
 * What the replica sees of a connection through the host (connection.ts
 * implements it): named here so that the host's interface does not import
 * the connection that imports it.
 */
export interface HostedClient {
  readonly id: number;
  readonly user: string;
  /** Awareness client ids it announced, removed when it closes. */
  readonly awarenessIds: Set<number>;
  readonly currentPage: Page | undefined;
}

/** What a connection needs from its replica; the replica implements it. */
export interface ConnectionHost {
  readonly pop: string;
  readonly replica: string;
  readonly durability: DurabilityLevel;
  readonly maxMessageBytes: number;
  /** Why `identity` may not write `page`, or undefined when it may. */
  refusal(identity: Identity, page: Page): string | undefined;
  /** Spends one edit of `identity`'s rate: 0 when it may edit now, else the milliseconds until it may. */
  editWaitMs(identity: Identity): number;
  /** A connection held back by the edit rate without a break for longer than this is closed (CloseCode.rateLimited). */
  readonly floodCloseMs: number;
  /** Sync step 1 and awareness queries a connection may send (undefined: no limit, EDGE_RATE_LIMIT=off). */
  readonly readLimits: RateLimits | undefined;
  /** What a connection may have queued and not handled yet: past either bound it is closed (CloseCode.rateLimited). */
  readonly queueLimits: QueueLimits;
  /** Why the replica takes no more edits now (too much unflushed), or undefined. */
  overCapacity(): string | undefined;
  /**
   * Whether a writer's `update` may go into `page` for its Yjs client ids
   * (not another user's, nothing else than the page holds at its clocks),
   * whole or in part (`edge/pages/client-ids.ts`), having claimed for
   * `user` the new ids `options.claims` accepts. Throws when the update is
   * not a valid Yjs update.
   */
  checkClientIds(page: Page, update: Uint8Array, user: string, options: { whole: boolean; claims: (client: number) => boolean }): ClientIdVerdict;
  /** Why `update` may not grow `page` (over the page size limit), or undefined. */
  pageTooLarge(page: Page, update: Uint8Array): string | undefined;
  /** Applies a client's update and resolves once it reached the configured durability. */
  applyClientUpdate(page: Page, update: Uint8Array, client: HostedClient): Promise<DurabilityLevel>;
  /** An update that changed nothing in the page (a resend): resolves once what the page holds is durable. */
  unchangedUpdate(page: Page): Promise<DurabilityLevel>;
  /** Applies a client's awareness update. */
  applyClientAwareness(page: Page, update: Uint8Array, client: HostedClient): void;
  readonly presenceLimits: PresenceLimits;
  recordPresence(result: PresenceResult, updates: number): void;
  /** The replica's watch over clients that fall behind. */
  readonly slowClients: Pick<SlowClients, "pauseBytes" | "closeBytes" | "fellBehind">;
  recordEdit(result: "accepted" | "refused", durability?: DurabilityLevel, seconds?: number): void;
  /** An ack went to the socket `seconds` after its update was read off it. */
  recordAckWritten(durability: DurabilityLevel, seconds: number): void;
  closed(client: HostedClient): void;
  readonly log: Logger;
}

export interface QueueLimits {
  messages: number;
  bytes: number;
}

/**
 * Why a queue of `messages` holding `bytes` is over `limits` (what is said
 * to the client on close), or undefined. Shared with the server's queue of
 * what a client sends before its token is checked.
 */
export function queueOverflow(messages: number, bytes: number, limits: QueueLimits, when: string): string | undefined {
  if (messages <= limits.messages && bytes <= limits.bytes) return undefined;
  return `${messages} messages (${bytes} bytes) queued ${when}, over the limit of ${limits.messages} (${limits.bytes} bytes): reconnect and send less at once`;
}
