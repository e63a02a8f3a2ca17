import * as awarenessProtocol from "y-protocols/awareness";
import * as Y from "yjs";
import { createLogger, type Logger } from "../common/logger";
import type { Slug } from "../common/slug";
import { ConnectionRechecks } from "./auth/connection-rechecks";
import { PageDeletions } from "./auth/page-deletions";
import type { Broker, DurableLog, Unsubscribe } from "../broker/broker";
import type { EdgeConfig } from "./config";
import type { ClientConnection } from "./clients/connection";
import type { ConnectionHost, HostedClient, QueueLimits } from "./clients/connection-host";
import type { RateLimits } from "./clients/token-bucket";
import { PageRegistry } from "./pages/documents";
import { type Durability, inMemory, inPopLog, writeThrough } from "./pop/durability";
import { Fanout } from "./clients/fanout";
import { TickBatcher } from "./pages/tick-batch";
import { Flusher } from "./origin-sync/flusher";
import { measurePages } from "./pages/page-gauges";
import { Membership } from "./pop/membership";
import { createEdgeMetrics, type EdgeMetrics } from "./metrics";
import type { OriginClient } from "./origin-sync/origin-client";
import { OriginFollowing } from "./origin-sync/origin-following";
import { Page, type UpdateOrigin } from "./pages/page";
import { Peers } from "./pop/peers";
import { PopLog } from "./pop/pop-log";
import type { PresenceLimits, PresenceResult } from "./clients/presence";
import type { ClientClaimList } from "../protocol/envelope";
import type { DurabilityLevel } from "../protocol/messages";
import { subjects } from "../protocol/subjects";
import type { Identity } from "../protocol/token";
import type { SlowClients } from "./clients/slow-clients";
import { Connections } from "./clients/connections";
import { ConnectionChecks } from "./clients/connection-checks";
import { ClientIdScreening } from "./pages/client-id-screening";
import { PageLoader } from "./pages/page-loader";
import { routeUpdates } from "./pages/update-routing";
import { handOverAndFlush } from "./pop/drain";
import { listen, rereadNotices, startUpkeep, Timers } from "./upkeep";

export interface ReplicaDeps {
  config: EdgeConfig;
  broker: Broker;
  origin: OriginClient;
  /** ws:// base clients use, and http:// base of /metrics, once the server listens. */
  urls: { ws: string; http: string };
  /** Whether this replica's metrics include the process's (one replica per process). */
  processMetrics: boolean;
  log?: Logger;
}

/**
 * One edge replica's state and behaviour, without its network listener
 * (server.ts): the pages it holds, how client, peer and origin updates flow
 * between them, membership, flushing and durability.
 */
export class Replica implements ConnectionHost {
  readonly pop: string;
  readonly replica: string;
  readonly durability: DurabilityLevel;
  readonly maxMessageBytes: number;
  readonly presenceLimits: PresenceLimits;
  readonly slowClients: SlowClients;
  readonly log: Logger;
  readonly metrics: EdgeMetrics;
  readonly pages: PageRegistry;
  readonly membership: Membership;
  readonly flusher: Flusher;
  private readonly peers: Peers;
  private readonly following: OriginFollowing;
  private readonly rechecks: ConnectionRechecks;
  private readonly deletions: PageDeletions;
  private readonly checks: ConnectionChecks;
  private readonly screening: ClientIdScreening;
  private readonly loader: PageLoader;
  private readonly clients: Connections;
  private readonly fanout: Fanout;
  private readonly batch: TickBatcher;
  private writes: Durability = inMemory();
  private popLog: PopLog | undefined;
  private durableLog: DurableLog | undefined;
  private readonly timers = new Timers();
  private unsubscribers: Unsubscribe[] = [];
  private draining = false;
  /** Bytes the origin has not acknowledged, summed over the pages once a second. */
  private unflushedTotal = 0;

  constructor(private readonly deps: ReplicaDeps) {
    const { config } = deps;
    this.pop = config.pop;
    this.replica = config.replica;
    this.durability = config.durability;
    this.maxMessageBytes = config.maxMessageBytes;
    this.log = deps.log ?? createLogger(`edge ${config.replica}`, config.logLevel);
    this.metrics = createEdgeMetrics({ pop: config.pop, replica: config.replica }, { processMetrics: deps.processMetrics });
    this.metrics.info.set({ durability: config.durability }, 1);
    this.clients = new Connections(config, this.metrics);
    this.slowClients = this.clients.slowClients;
    this.screening = new ClientIdScreening({ metrics: this.metrics, log: this.log });
    this.rechecks = new ConnectionRechecks({
      connections: this.clients.open,
      readBlocks: () => deps.origin.blocks(),
      tokenGraceMs: config.tokenGraceMs,
      metrics: this.metrics,
      log: this.log,
    });
    this.batch = new TickBatcher(config.fanoutMaxBytes, (page, error) => this.log.warn({ err: error, slug: page.slug }, "an update could not be applied; anti-entropy repairs a peer's"));
    this.fanout = new Fanout({
      windowMs: config.fanoutWindowMs,
      maxWindowMs: config.fanoutWindowMaxMs,
      sendsPerSecond: config.fanoutSendsPerSecond,
      maxBytes: config.fanoutMaxBytes,
      publishAwareness: (page, update) => {
        try {
          this.peers.publishAwareness(page.slug, update);
        } catch (error) {
          // Presence is renewed every 15 s: the peers get the next one.
          this.log.debug({ err: error, slug: page.slug }, "could not share presence with the peers");
        }
      },
      flushed: (clients, bytes, seconds) => {
        this.metrics.fanoutFlushSeconds.observe(seconds);
        this.metrics.fanoutBytes.inc(clients * bytes);
      },
    });
    this.presenceLimits = { ratePerSecond: config.awarenessRate, burst: config.awarenessBurst, maxStateBytes: config.maxAwarenessBytes };
    this.pages = new PageRegistry(
      (slug) => this.loader.load(slug),
      {
        loaded: () => this.metrics.pagesHeld.set(this.pages.size),
        pinned: (page) => this.batch.holds(page),
        evicted: (page) => {
          this.fanout.flush(page);
          this.peers.detach(page.slug);
          this.metrics.pagesHeld.set(this.pages.size);
        },
      },
      config.maxPages,
    );
    this.deletions = new PageDeletions({
      pages: () => this.pages.all(),
      heldPage: (slug) => this.pages.get(slug),
      connections: this.clients.open,
      readDeleted: (slugs) => deps.origin.deletedPages(slugs),
      closed: () => this.metrics.deletedPageCloses.inc(),
      log: this.log,
    });
    this.peers = new Peers(deps.broker, config.pop, config.replica, (slug) => this.pages.get(slug), {
      onUpdate: (page, update, from) => this.batch.peer(page, this.screening.screen(page, update, from.claims, "peer", from.replica), from.authors, from.edits),
      onAwareness: (page, update, replica) => awarenessProtocol.applyAwarenessUpdate(page.awareness, update, { kind: "peer", replica }),
      onRelay: (page, update, from) => this.batch.relay(page, this.screening.screen(page, update, from.claims, "relay", from.replica)),
      onFlushed: (page, stateVector, revision) => this.following.peerFlushed(page, stateVector, revision),
      onHold: (slug) => {
        if (!this.draining && this.membership.owns(slug)) {
          void this.pages.open(slug as Slug).catch((error: unknown) => this.log.warn({ err: error, slug }, "could not hold a page for a peer"));
        }
      },
    }, this.log);
    this.membership = new Membership({
      broker: deps.broker,
      self: { replica: config.replica, pop: config.pop, url: deps.urls.ws, httpUrl: deps.urls.http },
      heartbeatMs: config.heartbeatMs,
      expiryMs: config.memberExpiryMs,
      stats: () => ({ connections: this.clients.size, pages: this.pages.size }),
      log: this.log,
    });
    this.flusher = new Flusher({
      pop: config.pop,
      replica: config.replica,
      flushMs: config.flushMs,
      maxBatchBytes: config.flushMaxBytes,
      origin: deps.origin,
      membership: this.membership,
      pages: () => this.pages.all(),
      applyFromOrigin: (page, missing, claims) => this.screening.applyFromOrigin(page, missing, claims),
      announceFlushed: (page, stateVector, revision) => this.peers.publishFlushed(page.slug, stateVector, revision),
      onCommitted: (page, sequence) => void this.popLog?.committed(page, sequence),
      metrics: this.metrics,
      log: this.log,
    });
    this.following = new OriginFollowing({
      pop: config.pop,
      replica: config.replica,
      origin: deps.origin,
      membership: this.membership,
      peers: this.peers,
      heldPage: (slug) => this.pages.get(slug),
      loadingPage: (slug) => this.pages.loadingPage(slug),
      apply: (page, update, origin) => (origin.kind === "origin" ? this.screening.applyFromOrigin(page, update) : this.apply(page, update, origin)),
      flushMs: config.flushMs,
      log: this.log,
    });
    this.checks = new ConnectionChecks({
      config,
      rechecks: this.rechecks,
      flusher: this.flusher,
      draining: () => this.draining,
      unflushedBytes: () => this.unflushedTotal,
      metrics: this.metrics,
      log: this.log,
    });
    const route = { durability: config.durability, crossPopRelay: config.crossPopRelay, fanout: this.fanout, peers: this.peers, writes: () => this.writes, log: this.log };
    this.loader = new PageLoader({
      bootstrapTimeoutMs: config.bootstrapTimeoutMs,
      peers: this.peers,
      origin: deps.origin,
      following: this.following,
      deletions: this.deletions,
      writes: () => this.writes,
      popLog: () => this.popLog,
      route: (page) => routeUpdates(page, route),
      metrics: this.metrics,
      log: this.log,
    });
  }

  async start(): Promise<void> {
    const { config, broker, origin } = this.deps;
    this.peers.start();
    this.membership.start();
    this.unsubscribers.push(
      ...listen({
        broker,
        membership: this.membership,
        pages: this.pages,
        peers: this.peers,
        following: this.following,
        rechecks: this.rechecks,
        deletions: this.deletions,
        metrics: this.metrics,
        log: this.log,
      }),
    );
    rereadNotices(this.timers, { blockRecheckMs: config.blockRecheckMs, rechecks: this.rechecks, deletions: this.deletions });
    if (config.durability === "pop") {
      const log = await broker.durableLog(subjects.logStream(config.pop), subjects.logAll(config.pop));
      this.durableLog = log;
      const popLog = new PopLog(log, this, (slug) => subjects.logPage(config.pop, slug), this.log, Math.min(5000, Math.max(500, config.flushMs)));
      this.popLog = popLog;
      this.writes = inPopLog((page, update, authors) => popLog.append(page, update, authors));
      // Serves once the log is read and followed; its pages are replayed in
      // the background (a page opened first replays its own entries), and
      // pages it cannot load yet are retried. Only an unreadable log fails the start.
      await popLog.start();
      this.unsubscribers.push(this.membership.onChange(() => popLog.recoverAgain()));
    } else if (config.durability === "origin") {
      this.writes = writeThrough(origin, config.pop, config.replica);
    }
    this.flusher.start();
    this.slowClients.start();
    startUpkeep(this.timers, {
      config,
      broker,
      pages: this.pages,
      peers: this.peers,
      rechecks: this.rechecks,
      metrics: this.metrics,
      durableLog: () => this.durableLog,
      measurePages: () => (this.unflushedTotal = measurePages(this.pages.all(), this.membership, this.metrics)),
    });
    this.log.info({ pop: config.pop, durability: config.durability, flushMs: config.flushMs }, "replica started");
  }

  /** The durable-log recovery applies entries through here. */
  async openPage(slug: Slug): Promise<Page> {
    return this.pages.open(slug);
  }

  heldPage(slug: string): Page | undefined {
    return this.pages.get(slug);
  }

  loadingPage(slug: string): Promise<Page> | undefined {
    return this.pages.loadingPage(slug);
  }

  /**
   * Stops taking edits, hands its state to its peers, flushes every dirty
   * page it holds, and closes its clients so they reconnect elsewhere.
   */
  async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    await handOverAndFlush({
      batch: this.batch,
      membership: this.membership,
      peers: this.peers,
      pages: this.pages,
      flusher: this.flusher,
      drainTimeoutMs: this.deps.config.drainTimeoutMs,
      log: this.log,
    });
  }

  async stop(): Promise<void> {
    this.following.stop();
    this.timers.stop();
    this.batch.flush();
    this.fanout.stop();
    this.slowClients.stop();
    this.flusher.stop();
    for (const unsubscribe of this.unsubscribers) unsubscribe();
    await this.popLog?.stop();
    await this.membership.leave("gone");
    this.peers.stop();
    for (const page of [...this.pages.all()]) page.destroy();
  }

  get isDraining(): boolean {
    return this.draining;
  }

  // --- connections (ConnectionHost): connections.ts keeps them -------------

  connected = (client: ClientConnection) => this.clients.connected(client);
  closed = (client: ClientConnection) => this.clients.closed(client);
  applyClientAwareness = (page: Page, update: Uint8Array, client: HostedClient) => this.clients.applyAwareness(page, update, client);
  recordPresence = (result: PresenceResult, updates: number) => this.clients.recordPresence(result, updates);
  recordEdit: ConnectionHost["recordEdit"] = (result, durability, seconds) => this.clients.recordEdit(result, durability, seconds);
  recordAckWritten = (durability: DurabilityLevel, seconds: number) => this.clients.recordAckWritten(durability, seconds);

  get connectionCount(): number {
    return this.clients.size;
  }

  // What a client may do here: connection-checks.ts decides.
  refusal = (identity: Identity, page: Page) => this.checks.refusal(identity, page);
  blockedReason = (identity: Identity) => this.checks.blockedReason(identity);
  goneReason = (page: Page) => this.checks.goneReason(page);
  overCapacity = () => this.checks.overCapacity();
  pageTooLarge = (page: Page, update: Uint8Array) => this.checks.pageTooLarge(page, update);
  editWaitMs = (identity: Identity) => this.checks.editWaitMs(identity);
  checkClientIds: ConnectionHost["checkClientIds"] = (page, update, user, options) => this.screening.check(page, update, user, options);

  get floodCloseMs(): number {
    return this.checks.floodCloseMs;
  }

  get readLimits(): RateLimits | undefined {
    return this.checks.readLimits;
  }

  get queueLimits(): QueueLimits {
    return this.checks.queueLimits;
  }

  applyClientUpdate(page: Page, update: Uint8Array, client: HostedClient): Promise<DurabilityLevel> {
    const applied = this.batch.client(page, update, client.id, client.user);
    // Made durable (the PoP log, the origin) while it waits for its tick;
    // acknowledged once both are done.
    const durable = this.writes.update(page, update, client.user, applied);
    durable.catch(() => {});
    return applied.then(() => durable);
  }

  unchangedUpdate(page: Page): Promise<DurabilityLevel> {
    return this.writes.unchanged(page);
  }

  // --- pages ----------------------------------------------------------------

  /** Applies an update to a page; the doc's update handler fans it out. */
  apply(page: Page, update: Uint8Array, origin: UpdateOrigin): void {
    Y.applyUpdate(page.doc, update, origin);
  }

  applyLogEntry(page: Page, update: Uint8Array, sequence: bigint): void {
    this.batch.log(page, this.screening.screen(page, update, [], "log", "log"), sequence);
  }

  learnClaims(page: Page, claims: ClientClaimList, from: string): void {
    this.screening.learnClaims(page, claims, from);
  }

  applyPending(page: Page): boolean {
    return this.batch.holds(page);
  }
}
