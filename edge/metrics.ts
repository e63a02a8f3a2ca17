import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/**
 * One replica's Prometheus metrics, in a registry of its own: the embedded
 * default runs four replicas in one process, and each must report only its
 * own figures. Names are documented in docs/ops (metric table).
 */
export function createEdgeMetrics(labels: { pop: string; replica: string }, options: { processMetrics: boolean }) {
  const registry = new Registry();
  registry.setDefaultLabels(labels);
  if (options.processMetrics) collectDefaultMetrics({ register: registry, prefix: "weirwood_edge_" });
  const registers = [registry];
  return {
    registry,
    info: new Gauge({
      name: "weirwood_edge_info",
      help: "Always 1; its labels say how the replica is configured (durability)",
      labelNames: ["durability"] as const,
      registers,
    }),
    connections: new Gauge({ name: "weirwood_edge_connections", help: "Open client WebSocket connections", registers }),
    pagesHeld: new Gauge({ name: "weirwood_edge_pages_held", help: "Pages held in memory", registers }),
    unflushedPages: new Gauge({ name: "weirwood_edge_unflushed_pages", help: "Pages with edits the origin has not acknowledged", registers }),
    unflushedBytes: new Gauge({ name: "weirwood_edge_unflushed_bytes", help: "Bytes of updates the origin has not acknowledged", registers }),
    edits: new Counter({
      name: "weirwood_edge_edits_total",
      help: "Client update messages, by result (accepted, refused)",
      labelNames: ["result"] as const,
      registers,
    }),
    clientIdRefusals: new Counter({
      name: "weirwood_edge_client_id_refusals_total",
      help: "Client updates refused for their Yjs client ids (issue 18), by reason: claimed (another user's id), conflict (other content at clocks the page holds)",
      labelNames: ["reason"] as const,
      registers,
    }),
    clientIdConflicts: new Counter({
      name: "weirwood_edge_client_id_conflicts_total",
      help: "Client ids a remote update used for other content than the page holds (peer, relay, log: taken out; origin: kept), or claimed for another user (claim)",
      labelNames: ["source"] as const,
      registers,
    }),
    pageReads: new Counter({
      name: "weirwood_edge_page_reads_total",
      help: "GET /pages/:slug answers, by answer (ok, not_modified, not_held, deleted, bad_request, rate_limited, method_not_allowed)",
      labelNames: ["answer"] as const,
      registers,
    }),
    ackSeconds: new Histogram({
      name: "weirwood_edge_ack_latency_seconds",
      help: "From receiving a client's update to acknowledging it, by durability level",
      labelNames: ["durability"] as const,
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    readToAckSeconds: new Histogram({
      name: "weirwood_edge_read_to_ack_seconds",
      help: "From a client's update message read off its socket to its ack written to the socket, by durability level: waits in the connection's queue, the tick's transaction, durability, earlier acks, and whatever the event loop ran meanwhile (fan-out)",
      labelNames: ["durability"] as const,
      buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    ownedUnflushedPages: new Gauge({
      name: "weirwood_edge_owned_unflushed_pages",
      help: "Unflushed pages this replica flushes (summed over a PoP's replicas: the PoP's dirty pages, each once)",
      registers,
    }),
    ownedUnflushedBytes: new Gauge({
      name: "weirwood_edge_owned_unflushed_bytes",
      help: "Unflushed bytes of the pages this replica flushes (summed over a PoP: the bytes waiting for the origin)",
      registers,
    }),
    lastFlushTimestamp: new Gauge({
      name: "weirwood_edge_last_flush_timestamp_seconds",
      help: "Unix time of the last batch the origin acknowledged (0: none yet)",
      registers,
    }),
    popLogEntries: new Gauge({
      name: "weirwood_edge_pop_log_entries",
      help: "Entries in the PoP's durable log (JetStream at pop durability): updates the origin has not committed, and one checkpoint per page edited since the log was last emptied",
      registers,
    }),
    hotPageClients: new Gauge({
      name: "weirwood_edge_hot_page_clients",
      help: "Connections on this replica's busiest pages (top few only), by role (editor, follower)",
      labelNames: ["page", "role"] as const,
      registers,
    }),
    flushBatches: new Counter({ name: "weirwood_edge_flush_batches_total", help: "Batches the origin acknowledged", registers }),
    flushPages: new Counter({ name: "weirwood_edge_flush_pages_total", help: "Pages in acknowledged batches", registers }),
    flushBytes: new Counter({ name: "weirwood_edge_flush_bytes_total", help: "Update bytes in acknowledged batches", registers }),
    flushSeconds: new Histogram({
      name: "weirwood_edge_flush_seconds",
      help: "Round trip of a flush batch to the origin",
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    originErrors: new Counter({ name: "weirwood_edge_origin_errors_total", help: "Failed calls to the origin", registers }),
    flushRefusedPages: new Counter({
      name: "weirwood_edge_flush_refused_pages_total",
      help: "Pages the origin refused (4xx) or failed on (5xx) when sent alone; each stays dirty and is retried on its own backoff",
      labelNames: ["status"] as const,
      registers,
    }),
    flushHeldPages: new Gauge({
      name: "weirwood_edge_flush_held_pages",
      help: "Dirty pages waiting out a refusal of the origin (see weirwood_edge_flush_refused_pages_total and the log)",
      registers,
    }),
    flushParts: new Counter({ name: "weirwood_edge_flush_parts_total", help: "Parts sent for page diffs over EDGE_FLUSH_MAX_BYTES", registers }),
    flushMaxBytes: new Gauge({
      name: "weirwood_edge_flush_max_bytes",
      help: "Current batch size limit: EDGE_FLUSH_MAX_BYTES, or lower after the origin answered 413",
      registers,
    }),
    brokerRttSeconds: new Gauge({ name: "weirwood_edge_broker_rtt_seconds", help: "Round trip to the broker", registers }),
    members: new Gauge({ name: "weirwood_edge_members", help: "Live replicas of this PoP, this one included", registers }),
    fanoutFlushSeconds: new Histogram({
      name: "weirwood_edge_fanout_flush_seconds",
      help: "Time to send one page's coalesced window (updates and presence) to all its clients",
      buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1],
      registers,
    }),
    fanoutBytes: new Counter({ name: "weirwood_edge_fanout_bytes_total", help: "Bytes of coalesced messages handed to client sockets", registers }),
    awarenessUpdates: new Counter({
      name: "weirwood_edge_awareness_updates_total",
      help: "Client awareness updates, by result: applied, deferred (over the rate, held), superseded (a held state replaced by a newer one)",
      labelNames: ["result"] as const,
      registers,
    }),
    presenceTimeouts: new Counter({ name: "weirwood_edge_presence_timeouts_total", help: "Client presence states removed for not being renewed", registers }),
    tokenExpiredCloses: new Counter({
      name: "weirwood_edge_token_expired_closes_total",
      help: "Connections closed because their token expired while open (past EDGE_TOKEN_GRACE_MS)",
      registers,
    }),
    blockedCloses: new Counter({
      name: "weirwood_edge_blocked_closes_total",
      help: "Connections closed or refused because an admin blocked their account",
      registers,
    }),
    deletedPageCloses: new Counter({
      name: "weirwood_edge_deleted_page_closes_total",
      help: "Connections closed or refused because an admin deleted their page",
      registers,
    }),
    slowClients: new Counter({
      name: "weirwood_edge_slow_clients_total",
      help: "Clients that fell behind, by event: paused, caught-up, closed",
      labelNames: ["event"] as const,
      registers,
    }),
    clientsBehind: new Gauge({ name: "weirwood_edge_clients_behind", help: "Clients paused now for falling behind", registers }),
    clientBufferedBytes: new Gauge({ name: "weirwood_edge_client_buffered_bytes", help: "Bytes buffered in all client sockets, not yet handed to the kernel", registers }),
    pausedClientBufferedBytes: new Gauge({
      name: "weirwood_edge_paused_client_buffered_bytes",
      help: "The most bytes any one paused (slow) client's socket holds: at most the pause threshold plus one fan-out message",
      registers,
    }),
    bootstraps: new Counter({
      name: "weirwood_edge_page_loads_total",
      help: "Pages loaded, by source (peer, origin, log: rebuilt from the PoP log while the origin was down)",
      labelNames: ["source"] as const,
      registers,
    }),
  };
}

export type EdgeMetrics = ReturnType<typeof createEdgeMetrics>;
