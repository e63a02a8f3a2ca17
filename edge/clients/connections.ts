import * as awarenessProtocol from "y-protocols/awareness";
import { awarenessClientIds } from "../../protocol/awareness";
import type { DurabilityLevel } from "../../protocol/messages";
import type { EdgeConfig } from "../config";
import type { EdgeMetrics } from "../metrics";
import type { Page } from "../pages/page";
import type { ClientConnection } from "./connection";
import type { HostedClient } from "./connection-host";
import type { PresenceResult } from "./presence";
import { SlowClients } from "./slow-clients";

/**
 * A replica's open client connections: the set the rechecks, deletions and
 * slow-client watch walk, the presence each speaks for, and what they
 * report to the metrics.
 */
export class Connections {
  readonly open = new Set<ClientConnection>();
  readonly slowClients: SlowClients;

  constructor(
    config: EdgeConfig,
    private readonly metrics: EdgeMetrics,
  ) {
    // Labelled series exist from the start, at 0, for rate() in Prometheus.
    for (const result of ["accepted", "refused"] as const) metrics.edits.inc({ result }, 0);
    this.slowClients = new SlowClients(
      { pauseBytes: config.clientPauseBytes, closeBytes: config.clientCloseBytes, behindMs: config.clientBehindMs, totalBytes: config.clientsBufferedBytes },
      () => this.open,
      {
        paused: () => metrics.slowClients.inc({ event: "paused" }),
        caughtUp: () => metrics.slowClients.inc({ event: "caught-up" }),
        closed: () => metrics.slowClients.inc({ event: "closed" }),
        measured: (paused, bytes, mostHeld) => {
          metrics.clientsBehind.set(paused);
          metrics.clientBufferedBytes.set(bytes);
          metrics.pausedClientBufferedBytes.set(mostHeld);
        },
      },
    );
  }

  get size(): number {
    return this.open.size;
  }

  connected(client: ClientConnection): void {
    this.open.add(client);
    this.metrics.connections.set(this.open.size);
  }

  closed(client: ClientConnection): void {
    this.open.delete(client);
    this.metrics.connections.set(this.open.size);
    const page = client.currentPage;
    if (page && client.awarenessIds.size > 0) {
      awarenessProtocol.removeAwarenessStates(page.awareness, [...client.awarenessIds], { kind: "client-closed" });
    }
  }

  applyAwareness(page: Page, update: Uint8Array, client: HostedClient): void {
    // Remember which awareness ids this connection speaks for, so that its
    // cursors vanish for everyone when it disconnects.
    for (const id of awarenessClientIds(update)) client.awarenessIds.add(id);
    awarenessProtocol.applyAwarenessUpdate(page.awareness, update, { kind: "client", connectionId: client.id });
  }

  recordPresence(result: PresenceResult, updates: number): void {
    this.metrics.awarenessUpdates.inc({ result }, updates);
  }

  recordEdit(result: "accepted" | "refused", durability?: DurabilityLevel, seconds?: number): void {
    this.metrics.edits.inc({ result });
    if (durability && seconds !== undefined) this.metrics.ackSeconds.observe({ durability }, seconds);
  }

  recordAckWritten(durability: DurabilityLevel, seconds: number): void {
    this.metrics.readToAckSeconds.observe({ durability }, seconds);
  }
}
