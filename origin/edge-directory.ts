import type { Broker, Unsubscribe } from "../broker/broker";
import { decodeEnvelope } from "../protocol/envelope";
import { subjects } from "../protocol/subjects";

export interface EdgeEntry {
  pop: string;
  replica: string;
  /** The ws:// base a y-websocket provider takes. */
  url: string;
  /** Where the replica serves /metrics, /healthz and /readyz. */
  httpUrl: string;
  state: "up" | "draining";
  connections: number;
  pages: number;
  lastSeen: number;
}

/** A replica that said goodbye or stopped heartbeating, remembered for a while. */
export interface GoneEdge extends Omit<EdgeEntry, "state"> {
  state: "gone";
  goneAt: number;
}

/**
 * The edges a client may use, learnt from the replicas' own heartbeats on
 * the broker (every PoP's `members` subject): the same code in the embedded
 * default and self-hosted, and never a stale static list.
 */
export class EdgeDirectory {
  private readonly edges = new Map<string, EdgeEntry>();
  /** For the ops view: a replica that dies must show as gone, not vanish. */
  private readonly gone = new Map<string, GoneEdge>();
  private unsubscribe: Unsubscribe | undefined;

  constructor(
    broker: Broker,
    private readonly expiryMs = 3500,
    private readonly goneMemoryMs = 5 * 60_000,
  ) {
    this.unsubscribe = broker.subscribe(subjects.allMembers(), (message) => {
      let envelope;
      try {
        envelope = decodeEnvelope(message.data);
      } catch {
        return;
      }
      if (envelope.type !== "heartbeat") return;
      const key = `${envelope.pop}/${envelope.replica}`;
      const { pop, replica, url, httpUrl, state, connections, pages } = envelope;
      const entry = { pop, replica, url, httpUrl, connections, pages, lastSeen: Date.now() };
      if (state === "gone") {
        this.edges.delete(key);
        this.gone.set(key, { ...entry, state: "gone", goneAt: entry.lastSeen });
        return;
      }
      this.gone.delete(key);
      this.edges.set(key, { ...entry, state });
    });
  }

  /** Live edges, PoP by PoP; draining ones last, since they are about to leave. */
  list(now = Date.now()): EdgeEntry[] {
    this.expire(now);
    return [...this.edges.values()].sort(
      (a, b) => a.pop.localeCompare(b.pop) || Number(a.state === "draining") - Number(b.state === "draining") || a.replica.localeCompare(b.replica),
    );
  }

  /** The live edges, and those gone within the last `goneMemoryMs` (newest first). */
  roster(now = Date.now()): { live: EdgeEntry[]; gone: GoneEdge[] } {
    const live = this.list(now);
    for (const [key, edge] of this.gone) if (now - edge.goneAt > this.goneMemoryMs) this.gone.delete(key);
    return { live, gone: [...this.gone.values()].sort((a, b) => b.goneAt - a.goneAt) };
  }

  private expire(now: number): void {
    for (const [key, edge] of this.edges) {
      if (now - edge.lastSeen <= this.expiryMs) continue;
      this.edges.delete(key);
      // Silent for longer than the expiry: it died (SIGKILL, a lost host).
      this.gone.set(key, { ...edge, state: "gone", goneAt: edge.lastSeen + this.expiryMs });
    }
  }

  close(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }
}
