/**
 * What the hot-page crowd's main thread and its workers agree on. Types
 * and pure helpers only, so that both sides import it.
 */

export interface CrowdClientPlan {
  /** Index over the whole crowd; editors first. */
  index: number;
  role: "editor" | "follower";
  url: string;
  /** The other replicas of its PoP: where it reconnects after a close, in turn with `url`, as a real client goes to the PoP's next replica. */
  alternates: string[];
  pop: string;
  token: string;
  /** A probe decodes everything it receives to time delivery; the others only count bytes and check completeness. */
  probe: boolean;
}

export interface CrowdWorkerPlan {
  worker: number;
  slug: string;
  clients: CrowdClientPlan[];
  /** Edits and cursor moves per editor per second (a person typing: about 1). */
  editsPerSecond: number;
  cursorMovesPerSecond: number;
  /** Letters that make this point's markers unique on the page. */
  tag: string;
  connectTimeoutMs: number;
  seed: number;
}

export type ToCrowdWorker =
  | { type: "start"; measureFrom: number; measureTo: number }
  | { type: "stop" }
  /** Acknowledged edits by author (Yjs client id) as sorted start clocks: each receiver says which it never got. */
  | { type: "check"; acked: [number, number[]][] }
  | { type: "close" };

export interface CrowdWorkerResult {
  worker: number;
  /** Update delivery latency (author's send to a probe's receipt) and awareness delivery latency, ms, within the measured window. */
  delivery: number[];
  awareness: number[];
  /** Per author's edit: its Yjs client id, start clock, send and ack time (NaN: never acknowledged). */
  edits: { client: Float64Array; clock: Float64Array; sentAt: Float64Array; ackedAt: Float64Array };
  /** Over the measured window, all clients of the worker. */
  received: { messages: number; bytes: number; updateMessages: number; awarenessMessages: number };
  clients: number;
  probes: number;
  cpuSeconds: number;
  eventLoopUtilization: number;
}

export type FromCrowdWorker =
  | { type: "ready"; connected: number; failures: Record<string, number> }
  | { type: "stopped"; result: CrowdWorkerResult }
  /**
   * Over every receiver that ever synced, open or not. `closes`: every close
   * by the edge so far, by code and reason (4408 for a client too far
   * behind); `reconnects`: how many times receivers came back after one;
   * `open`: receivers connected at the check.
   */
  | {
      type: "checked";
      undelivered: number;
      receiversMissing: number;
      receiversChecked: number;
      open: number;
      examples: string[];
      closes: Record<string, number>;
      reconnects: number;
    }
  | { type: "progress"; at: number; sent: number; acked: number; delivered: number; deliveryP99: number }
  | { type: "closed" };

/** `[<tag><author>n<n>t<sent epoch ms>]`: unique per edit, and it carries its own send time to every receiver. */
export function hotMarker(tag: string, author: number, n: number, sentAt: number): string {
  return `[${tag}${author}n${n}t${Math.round(sentAt)}]`;
}

export const HOT_MARKER = /\[([a-z]+)(\d+)n(\d+)t(\d+)\]/g;
