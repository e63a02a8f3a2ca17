import type { Awareness } from "y-protocols/awareness";
import type * as Y from "yjs";
import type { DurabilityLevel } from "../../protocol/messages";
import type { EdgeEndpoint } from "../edges";
import type { TokenSource } from "./tokens";

/** What the browser's edge connection (provider.ts) says about itself, and what it is made with. */
export type ConnectionPhase = "connecting" | "connected" | "offline" | "failed" | "stopped";

export interface ProviderStatus {
  phase: ConnectionPhase;
  pop: string | undefined;
  replica: string | undefined;
  /** The current connection has received the edge's document (sync step 2). */
  synced: boolean;
  /** The edge's configured durability, from its session message. */
  durability: DurabilityLevel | undefined;
  /** False when the edge said we may only read (session message or auth "permission denied"). */
  canWrite: boolean | undefined;
  /** The edge's reason for refusing our writes. */
  denied: string | undefined;
  /** Local edits no edge has acknowledged yet. */
  unacknowledgedEdits: number;
  /** Local edits not yet acknowledged at `origin` durability. */
  uncommittedEdits: number;
  /** Time of the last acknowledgement, by level. */
  acknowledgedAt: Partial<Record<DurabilityLevel, number>>;
  /** Why the last connection ended or failed, for the status line. */
  problem: string | undefined;
  /** Failed attempts since the last successful sync. */
  attempts: number;
  /** The page's name now, once the edge said it was moved (the provider follows it). */
  movedTo: string | undefined;
}

export interface EdgeProviderOptions {
  slug: string;
  doc: Y.Doc;
  /** Presence (cursors, names); a live reader passes none and stays invisible. */
  awareness?: Awareness;
  pop: string | undefined;
  listEdges: () => Promise<EdgeEndpoint[]>;
  tokens: TokenSource;
  /** A follower never sends document updates. */
  readOnly?: boolean;
  /**
   * Where a moved page went, when the edge's close (4411) could not say: a
   * new name too long for a close frame (protocol/moved-page.ts). The wiki
   * asks the origin (findMovedPage in moved-page-lookup.ts). Without it, or
   * when it answers nothing, such a close ends the provider.
   */
  findMovedPage?: (slug: string) => Promise<string | undefined>;
  WebSocketImpl?: typeof WebSocket;
  backoff?: { initialMs: number; maxMs: number };
  /** Gives up on a socket that has not opened after this long. */
  connectTimeoutMs?: number;
  now?: () => number;
  log?: (message: string, detail?: unknown) => void;
}

/** An update message sent on the current connection, until an acknowledgement covers it. */
export interface SentMessage {
  seq: number;
  /** The newest local edit this message carries (it carries every older one too). */
  edit: number;
}

/** A provider's status before its first connection. */
export function initialStatus(pop: string | undefined, readOnly: boolean): ProviderStatus {
  return {
    phase: "connecting",
    pop,
    replica: undefined,
    synced: false,
    durability: undefined,
    canWrite: readOnly ? false : undefined,
    denied: undefined,
    unacknowledgedEdits: 0,
    uncommittedEdits: 0,
    acknowledgedAt: {},
    problem: undefined,
    attempts: 0,
    movedTo: undefined,
  };
}
