import type { Broker, Unsubscribe } from "../edge/broker/broker";
import { decodeEnvelope } from "../edge/protocol/envelope";
import { subjects } from "../edge/protocol/subjects";

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

/**
 * The edges a client may use, learnt from the replicas' own heartbeats on
 * the broker (every PoP's `members` subject): the same code in the embedded
 * default and self-hosted, and never a stale static list.
 */
export class EdgeDirectory {
  private readonly edges = new Map<string, EdgeEntry>();
  private unsubscribe: Unsubscribe | undefined;

  constructor(
    broker: Broker,
    private readonly expiryMs = 3500,
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
      if (envelope.state === "gone") {
        this.edges.delete(key);
        return;
      }
      const { pop, replica, url, httpUrl, state, connections, pages } = envelope;
      this.edges.set(key, { pop, replica, url, httpUrl, state, connections, pages, lastSeen: Date.now() });
    });
  }

  /** Live edges, PoP by PoP; draining ones last, since they are about to leave. */
  list(now = Date.now()): EdgeEntry[] {
    for (const [key, edge] of this.edges) if (now - edge.lastSeen > this.expiryMs) this.edges.delete(key);
    return [...this.edges.values()].sort(
      (a, b) => a.pop.localeCompare(b.pop) || Number(a.state === "draining") - Number(b.state === "draining") || a.replica.localeCompare(b.replica),
    );
  }

  close(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }
}
