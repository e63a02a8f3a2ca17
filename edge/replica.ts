import type { Broker, DurableLog, Unsubscribe } from "../broker/broker";
import { createLogger, type Logger } from "../common/logger";
import type { Slug } from "../common/slug";
import type { DurabilityLevel } from "../protocol/messages";
import type { Identity } from "../protocol/token";
import { ConnectionRechecks } from "./auth/connection-rechecks";
import { PageDeletions } from "./auth/page-deletions";
import type { ClientConnection } from "./clients/connection";
import { ConnectionChecks } from "./clients/connection-checks";
import type { ConnectionHost, HostedClient, QueueLimits } from "./clients/connection-host";
import { Connections } from "./clients/connections";
import type { PresenceLimits, PresenceResult } from "./clients/presence";
import type { SlowClients } from "./clients/slow-clients";
import type { RateLimits } from "./clients/token-bucket";
import type { EdgeConfig } from "./config";
import { createEdgeMetrics, type EdgeMetrics } from "./metrics";
import type { Flusher } from "./origin-sync/flusher";
import type { OriginClient } from "./origin-sync/origin-client";
import type { OriginFollowing } from "./origin-sync/origin-following";
import { syncWithOrigin } from "./origin-sync/origin-sync";
import type { PageRegistry } from "./pages/documents";
import type { Page } from "./pages/page";
import { measurePages } from "./pages/page-gauges";
import { PageLoader } from "./pages/page-loader";
import { UpdatePath } from "./pages/update-path";
import { handOverAndFlush } from "./pop/drain";
import { Membership } from "./pop/membership";
import { openDurability } from "./pop/open-durability";
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
 * One edge replica without its network listener (server.ts), composed of
 * its rooms' parts: its connections and what they may do (clients/,
 * auth/), the way a page's updates travel (pages/update-path.ts), its PoP
 * (pop/: membership, and the durability opened at start), its two
 * conversations with the origin (origin-sync/origin-sync.ts) and its
 * periodic work (upkeep.ts). It hosts the connections, and delegates.
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
  private readonly path: UpdatePath;
  private readonly following: OriginFollowing;
  private readonly rechecks: ConnectionRechecks;
  private readonly deletions: PageDeletions;
  private readonly checks: ConnectionChecks;
  private readonly loader: PageLoader;
  private readonly clients: Connections;
  private durableLog: DurableLog | undefined;
  private readonly timers = new Timers();
  private unsubscribers: Unsubscribe[] = [];
  private draining = false;
  /** Bytes the origin has not acknowledged, summed over the pages once a second. */
  private unflushedTotal = 0;

  constructor(private readonly deps: ReplicaDeps) {
    const { config, origin } = deps;
    this.pop = config.pop;
    this.replica = config.replica;
    this.durability = config.durability;
    this.maxMessageBytes = config.maxMessageBytes;
    this.presenceLimits = { ratePerSecond: config.awarenessRate, burst: config.awarenessBurst, maxStateBytes: config.maxAwarenessBytes };
    const log = (this.log = deps.log ?? createLogger(`edge ${config.replica}`, config.logLevel));
    const metrics = (this.metrics = createEdgeMetrics({ pop: config.pop, replica: config.replica }, { processMetrics: deps.processMetrics }));
    metrics.info.set({ durability: config.durability }, 1);
    this.clients = new Connections(config, metrics);
    this.slowClients = this.clients.slowClients;
    const connections = this.clients.open;
    this.rechecks = new ConnectionRechecks({ connections, readBlocks: () => origin.blocks(), tokenGraceMs: config.tokenGraceMs, metrics, log });
    this.path = new UpdatePath({
      config,
      broker: deps.broker,
      metrics,
      log,
      load: (slug) => this.loader.load(slug),
      peerFlushed: (page, stateVector, revision) => this.following.peerFlushed(page, stateVector, revision),
      holdsFor: (slug) => !this.draining && this.membership.owns(slug),
    });
    const { pages, peers } = this.path;
    this.pages = pages;
    const readDeleted = (slugs: string[]) => origin.deletedPages(slugs);
    this.deletions = new PageDeletions({ pages: () => pages.all(), heldPage: (slug) => pages.get(slug), connections, readDeleted, closed: () => metrics.deletedPageCloses.inc(), log });
    const self = { replica: config.replica, pop: config.pop, url: deps.urls.ws, httpUrl: deps.urls.http };
    const stats = () => ({ connections: this.clients.size, pages: pages.size });
    const membership = (this.membership = new Membership({ broker: deps.broker, self, heartbeatMs: config.heartbeatMs, expiryMs: config.memberExpiryMs, stats, log }));
    const { flusher, following } = syncWithOrigin({ config, origin, membership, path: this.path, metrics, log });
    this.flusher = flusher;
    this.following = following;
    const { rechecks, deletions } = this;
    this.checks = new ConnectionChecks({ config, rechecks, flusher, draining: () => this.draining, unflushedBytes: () => this.unflushedTotal, metrics, log });
    const { bootstrapTimeoutMs } = config;
    this.loader = new PageLoader({ bootstrapTimeoutMs, peers, origin, following, deletions, ...this.path.loaderHooks(), metrics, log });
  }

  async start(): Promise<void> {
    const { config, broker, origin } = this.deps;
    const { membership, pages, following, rechecks, deletions, metrics, log } = this;
    const { peers } = this.path;
    peers.start();
    membership.start();
    this.unsubscribers.push(...listen({ broker, membership, pages, peers, following, rechecks, deletions, metrics, log }));
    rereadNotices(this.timers, { blockRecheckMs: config.blockRecheckMs, rechecks, deletions });
    const { writes, popLog, durableLog } = await openDurability({ config, broker, origin, host: this.path, log });
    this.path.writes = writes;
    this.path.popLog = popLog;
    this.durableLog = durableLog;
    if (popLog) {
      // Serves once the log is read and followed; its pages are replayed in
      // the background (a page opened first replays its own entries), and
      // pages it cannot load yet are retried. Only an unreadable log fails the start.
      await popLog.start();
      this.unsubscribers.push(membership.onChange(() => popLog.recoverAgain()));
    }
    this.flusher.start();
    this.slowClients.start();
    const measure = () => (this.unflushedTotal = measurePages(pages.all(), membership, metrics));
    startUpkeep(this.timers, { config, broker, pages, peers, rechecks, metrics, durableLog: () => this.durableLog, measurePages: measure });
    log.info({ pop: config.pop, durability: config.durability, flushMs: config.flushMs }, "replica started");
  }

  /**
   * Stops taking edits, hands its state to its peers, flushes every dirty
   * page it holds, and closes its clients so they reconnect elsewhere.
   */
  async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    const { batch, peers } = this.path;
    const { membership, pages, flusher, log } = this;
    await handOverAndFlush({ batch, membership, peers, pages, flusher, drainTimeoutMs: this.deps.config.drainTimeoutMs, log });
  }

  async stop(): Promise<void> {
    this.following.stop();
    this.timers.stop();
    this.path.batch.flush();
    this.path.fanout.stop();
    this.slowClients.stop();
    this.flusher.stop();
    for (const unsubscribe of this.unsubscribers) unsubscribe();
    await this.path.popLog?.stop();
    await this.membership.leave("gone");
    this.path.peers.stop();
    for (const page of [...this.pages.all()]) page.destroy();
  }

  get isDraining(): boolean {
    return this.draining;
  }

  openPage = (slug: Slug) => this.path.openPage(slug);
  heldPage = (slug: string) => this.path.heldPage(slug);
  loadingPage = (slug: string) => this.path.loadingPage(slug);

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
  checkClientIds: ConnectionHost["checkClientIds"] = (page, update, user, options) => this.path.screening.check(page, update, user, options);

  get floodCloseMs(): number {
    return this.checks.floodCloseMs;
  }

  get readLimits(): RateLimits | undefined {
    return this.checks.readLimits;
  }

  get queueLimits(): QueueLimits {
    return this.checks.queueLimits;
  }

  // Where a client's update goes: update-path.ts carries it.
  applyClientUpdate = (page: Page, update: Uint8Array, client: HostedClient) => this.path.applyClientUpdate(page, update, client);
  unchangedUpdate = (page: Page) => this.path.unchangedUpdate(page);
}
