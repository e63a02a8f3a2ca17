import * as awarenessProtocol from "y-protocols/awareness";
import * as Y from "yjs";
import { createLogger, type Logger } from "../common/logger";
import type { Slug } from "../common/slug";
import { writePermission } from "./auth/permissions";
import { ConnectionRechecks } from "./auth/connection-rechecks";
import { PageDeletions } from "./auth/page-deletions";
import { createEditRateLimiter } from "./auth/rate-limit";
import type { Broker, DurableLog, Unsubscribe } from "../broker/broker";
import type { EdgeConfig } from "./config";
import type { ClientConnection } from "./clients/connection";
import type { ConnectionHost, QueueLimits } from "./clients/connection-host";
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
import { PageSizeLimit } from "./pages/page-size";
import { Peers } from "./pop/peers";
import { PopLog } from "./pop/pop-log";
import { type PresenceLimits, type PresenceResult, removeOutdatedPresence } from "./clients/presence";
import { awarenessClientIds } from "../protocol/awareness";
import { fromBase64 } from "../protocol/flush";
import type { ClientClaimList } from "../protocol/envelope";
import { checkClientIds, type ClientIdVerdict, screenRemote } from "./pages/client-ids";
import type { DurabilityLevel } from "../protocol/messages";
import { CloseCode } from "../protocol/close-codes";
import { deletedPageMessage } from "../protocol/deletions";
import { movedPageMessage } from "../protocol/moved-page";
import { subjects } from "../protocol/subjects";
import { fitCloseReason } from "./auth/blocks";
import type { Identity } from "../protocol/token";
import { SlowClients } from "./clients/slow-clients";

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
  private readonly rateLimiter = createEditRateLimiter();
  private readonly rechecks: ConnectionRechecks;
  private readonly deletions: PageDeletions;
  private readonly pageSize: PageSizeLimit;
  private readonly connections = new Set<ClientConnection>();
  private readonly fanout: Fanout;
  private readonly batch: TickBatcher;
  private writes: Durability = inMemory();
  private popLog: PopLog | undefined;
  private durableLog: DurableLog | undefined;
  private timers: NodeJS.Timeout[] = [];
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
    this.pageSize = new PageSizeLimit(config.maxPageBytes);
    this.log = deps.log ?? createLogger(`edge ${config.replica}`, config.logLevel);
    this.metrics = createEdgeMetrics({ pop: config.pop, replica: config.replica }, { processMetrics: deps.processMetrics });
    this.metrics.info.set({ durability: config.durability }, 1);
    this.rechecks = new ConnectionRechecks({
      connections: this.connections,
      readBlocks: () => deps.origin.blocks(),
      tokenGraceMs: config.tokenGraceMs,
      metrics: this.metrics,
      log: this.log,
    });
    // Labelled series exist from the start, at 0, for rate() in Prometheus.
    for (const result of ["accepted", "refused"] as const) this.metrics.edits.inc({ result }, 0);
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
    this.slowClients = new SlowClients(
      { pauseBytes: config.clientPauseBytes, closeBytes: config.clientCloseBytes, behindMs: config.clientBehindMs, totalBytes: config.clientsBufferedBytes },
      () => this.connections,
      {
        paused: () => this.metrics.slowClients.inc({ event: "paused" }),
        caughtUp: () => this.metrics.slowClients.inc({ event: "caught-up" }),
        closed: () => this.metrics.slowClients.inc({ event: "closed" }),
        measured: (paused, bytes) => {
          this.metrics.clientsBehind.set(paused);
          this.metrics.clientBufferedBytes.set(bytes);
        },
      },
    );
    this.pages = new PageRegistry(
      (slug) => this.loadPage(slug),
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
      connections: this.connections,
      readDeleted: (slugs) => deps.origin.deletedPages(slugs),
      closed: () => this.metrics.deletedPageCloses.inc(),
      log: this.log,
    });
    this.peers = new Peers(deps.broker, config.pop, config.replica, (slug) => this.pages.get(slug), {
      onUpdate: (page, update, from) => this.batch.peer(page, this.screen(page, update, from.claims, "peer", from.replica), from.authors, from.edits),
      onAwareness: (page, update, replica) => awarenessProtocol.applyAwarenessUpdate(page.awareness, update, { kind: "peer", replica }),
      onRelay: (page, update, from) => this.batch.relay(page, this.screen(page, update, from.claims, "relay", from.replica)),
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
      stats: () => ({ connections: this.connections.size, pages: this.pages.size }),
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
      applyFromOrigin: (page, missing, claims) => this.applyFromOrigin(page, missing, claims),
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
      apply: (page, update, origin) => (origin.kind === "origin" ? this.applyFromOrigin(page, update) : this.apply(page, update, origin)),
      flushMs: config.flushMs,
      log: this.log,
    });
  }

  async start(): Promise<void> {
    const { config, broker, origin } = this.deps;
    this.peers.start();
    this.membership.start();
    // A lone replica's membership never changes: set the gauge once, or it reads 0 members.
    this.metrics.members.set(this.membership.list().length);
    this.unsubscribers.push(
      this.membership.onChange(() => this.metrics.members.set(this.membership.list().length)),
      this.membership.onChange(() => {
        for (const page of this.pages.all()) this.following.askFlusherToHold(page);
      }),
      broker.onReconnect(() => {
        this.log.info("broker reconnected: running anti-entropy for every page held");
        for (const page of this.pages.all()) this.peers.pull(page);
      }),
      broker.subscribe(subjects.pageChanged(), (message) => this.following.pageChanged(message.data)),
      broker.subscribe(subjects.userBlocks(), (message) => this.rechecks.blockNoticeHeard(message.data)),
      broker.subscribe(subjects.pageDeletions(), (message) => this.deletions.noticeHeard(message.data)),
    );
    // Notices are at most once: the origin's list, read now and every
    // EDGE_BLOCK_RECHECK_MS, bounds how long a lost one leaves a block unenforced.
    void this.rechecks.rereadBlocks();
    this.every(config.blockRecheckMs, () => void this.rechecks.rereadBlocks());
    // The same bound for a lost page deletion notice: the held pages are asked about as often.
    this.every(config.blockRecheckMs, () => void this.deletions.reread());
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
    this.every(Math.max(100, Math.floor(config.awarenessTimeoutMs / 10)), () => {
      const now = Date.now();
      for (const page of this.pages.all()) {
        this.metrics.presenceTimeouts.inc(removeOutdatedPresence(page.awareness, config.awarenessTimeoutMs, now).length);
        page.forgetDeparturesBefore(now - config.clientBehindMs - 1000);
      }
    });
    // A token is checked when the socket opens; one that expires while the
    // socket is open must not keep it open for good (a role change or a
    // deleted account reaches the edge only through a new token).
    this.every(Math.max(100, Math.min(5000, Math.floor(config.tokenGraceMs / 2))), () => this.rechecks.closeExpired(Date.now()));
    this.every(config.antiEntropyMs, () => {
      for (const page of this.pages.all()) this.peers.pull(page);
    });
    this.every(Math.max(1000, Math.floor(config.idleEvictMs / 4)), () => this.pages.evictIdle(config.idleEvictMs));
    this.every(1000, () => this.updateGauges());
    this.every(5000, () => {
      broker
        .ping()
        .then((ms) => this.metrics.brokerRttSeconds.set(ms / 1000))
        .catch(() => {});
      // One stream-info request per replica every 5 s: cheap enough to keep.
      this.durableLog
        ?.entryCount()
        .then((entries) => this.metrics.popLogEntries.set(entries))
        .catch(() => {});
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
    this.batch.flush();
    await this.membership.leave("draining");
    for (const page of this.pages.all()) {
      this.peers.publishUpdate(page.slug, Y.encodeStateAsUpdate(page.doc), [], 0, page.claims.all());
    }
    // What this replica owes the origin is what it held when it stopped
    // taking edits. Its peers' edits that keep arriving are theirs to flush
    // (they are still running): waiting for a page to be clean would hold a
    // replica draining until the deadline while others type on its pages.
    const owed = [...this.pages.all()].filter((page) => page.dirty).map((page) => ({ page, generation: page.dirtyGeneration }));
    const pending = () => owed.filter(({ page, generation }) => page.flushedGeneration < generation);
    const deadline = Date.now() + this.deps.config.drainTimeoutMs;
    while (Date.now() < deadline && pending().length > 0) {
      try {
        await this.flusher.flush("all");
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
    const unflushed = pending().map(({ page }) => page.slug);
    if (unflushed.length > 0) {
      this.log.warn({ unflushed }, "drain: pages still unflushed at the deadline; the PoP's peers (and its log at pop) hold them");
    }
  }

  async stop(): Promise<void> {
    this.following.stop();
    for (const timer of this.timers) clearInterval(timer);
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

  // --- connections (ConnectionHost) -------------------------------------

  connected(client: ClientConnection): void {
    this.connections.add(client);
    this.metrics.connections.set(this.connections.size);
  }

  closed(client: ClientConnection): void {
    this.connections.delete(client);
    this.metrics.connections.set(this.connections.size);
    const page = client.currentPage;
    if (page && client.awarenessIds.size > 0) {
      awarenessProtocol.removeAwarenessStates(page.awareness, [...client.awarenessIds], { kind: "client-closed" });
    }
  }

  /** Why `identity` may not open a connection here (its account is blocked), or undefined. */
  blockedReason(identity: Identity): string | undefined {
    const reason = this.rechecks.refusal(identity);
    if (reason !== undefined) this.metrics.blockedCloses.inc();
    return reason;
  }

  /** Why no connection may open to `page` (an admin deleted it, or it was moved), with its close code, or undefined. */
  goneReason(page: Page): { code: number; reason: string } | undefined {
    const gone =
      page.movedTo !== undefined
        ? { code: CloseCode.pageMoved, reason: fitCloseReason(movedPageMessage(page.movedTo)) }
        : page.deleted !== undefined
          ? { code: CloseCode.pageDeleted, reason: page.deleted }
          : undefined;
    if (gone) this.metrics.deletedPageCloses.inc();
    return gone;
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  refusal(identity: Identity, page: Page): string | undefined {
    if (this.draining) return "this replica is shutting down: reconnect to another replica of the PoP";
    // Between the delete and the close of this connection (a notice's flight, or a recheck).
    if (page.deleted !== undefined) return page.deleted;
    if (page.movedTo !== undefined) return movedPageMessage(page.movedTo);
    const blocked = this.rechecks.refusal(identity);
    if (blocked !== undefined) return blocked;
    const permission = writePermission(identity, page.protection);
    return permission.allowed ? undefined : permission.reason;
  }

  overCapacity(): string | undefined {
    const limit = this.deps.config.maxUnflushedBytes;
    if (this.unflushedTotal <= limit) return undefined;
    const held = this.flusher.heldPages().size;
    const why = held > 0 ? `the origin refuses ${held} page(s), see the edge log` : "is the origin down?";
    return `this replica holds ${this.unflushedTotal} bytes the origin has not taken (limit ${limit}; ${why}): retry later`;
  }

  pageTooLarge(page: Page, update: Uint8Array): string | undefined {
    const refusal = this.pageSize.refusal(page, update);
    if (refusal) this.log.warn({ slug: page.slug, bytes: update.byteLength, limit: this.pageSize.maxBytes }, `refused an update: ${refusal}`);
    return refusal;
  }

  editWaitMs(identity: Identity): number {
    if (!this.deps.config.rateLimit) return 0;
    const decision = this.rateLimiter.take(identity);
    return decision.allowed ? 0 : decision.retryAfterMs;
  }

  get floodCloseMs(): number {
    return this.deps.config.floodCloseMs;
  }

  get readLimits(): RateLimits | undefined {
    const { rateLimit, readRate, readBurst } = this.deps.config;
    return rateLimit ? { perSecond: readRate, burst: readBurst } : undefined;
  }

  get queueLimits(): QueueLimits {
    return { messages: this.deps.config.maxQueuedMessages, bytes: this.deps.config.maxQueuedBytes };
  }

  applyClientUpdate(page: Page, update: Uint8Array, client: ClientConnection): Promise<DurabilityLevel> {
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

  applyClientAwareness(page: Page, update: Uint8Array, client: ClientConnection): void {
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

  // --- pages ----------------------------------------------------------------

  /** Applies an update to a page; the doc's update handler fans it out. */
  apply(page: Page, update: Uint8Array, origin: UpdateOrigin): void {
    Y.applyUpdate(page.doc, update, origin);
  }

  applyLogEntry(page: Page, update: Uint8Array, sequence: bigint): void {
    this.batch.log(page, this.screen(page, update, [], "log", "log"), sequence);
  }

  learnClaims(page: Page, claims: ClientClaimList, from: string): void {
    const disputed = page.claims.learn(claims);
    if (disputed.length > 0) this.clientIdConflict(page, "claim", from, disputed);
  }

  // --- client ids (issue 18) -------------------------------------------------

  checkClientIds(page: Page, update: Uint8Array, user: string, options: { whole: boolean; claims: (client: number) => boolean }): ClientIdVerdict {
    const verdict = checkClientIds(page, update, user, options);
    const refusal = verdict.kind === "refused" ? verdict.refusal : verdict.leftOut;
    if (refusal) {
      this.metrics.clientIdRefusals.inc({ reason: refusal.reason });
      this.log.warn({ slug: page.slug, user, clients: refusal.clients, reason: refusal.reason }, `client update: ${refusal.message}`);
    }
    return verdict;
  }

  /** A remote update before it waits for its tick: its claims learnt, the structs that disagree with the page taken out. */
  private screen(page: Page, update: Uint8Array, claims: ClientClaimList, source: "peer" | "relay" | "log", from: string): Uint8Array {
    const screened = screenRemote(page, update, claims);
    if (screened.disputed.length > 0) this.clientIdConflict(page, "claim", from, screened.disputed);
    if (screened.conflicting.length > 0) this.clientIdConflict(page, source, from, screened.conflicting);
    return screened.update;
  }

  /**
   * The origin's diff is applied whole: the origin is where the PoPs meet,
   * and what it holds is what every PoP ends with. Where it disagrees with
   * this page, this page keeps its own structs (Yjs cannot replace them):
   * counted and logged, see docs/security.md.
   */
  private applyFromOrigin(page: Page, update: Uint8Array, claims: ClientClaimList = []): void {
    // The origin's claims win over what this page believed: they are what every PoP learns.
    page.claims.settle(claims);
    const screened = screenRemote(page, update, []);
    if (screened.conflicting.length > 0) this.clientIdConflict(page, "origin", "origin", screened.conflicting);
    this.apply(page, update, { kind: "origin" });
  }

  private clientIdConflict(page: Page, source: "peer" | "relay" | "log" | "origin" | "claim", from: string, clients: number[]): void {
    this.metrics.clientIdConflicts.inc({ source }, clients.length);
    this.log.warn(
      { slug: page.slug, source, from, clients },
      source === "claim"
        ? "client ids claimed by two users at once in two places: the first claim this replica heard stays"
        : "structs under client ids this page holds with other content: one client id was used for two contents at once in two places; this page keeps its own",
    );
  }

  applyPending(page: Page): boolean {
    return this.batch.holds(page);
  }

  private async loadPage(slug: Slug): Promise<Page> {
    const { config } = this.deps;
    const fromPeers = await this.peers.bootstrap(slug, config.bootstrapTimeoutMs);
    let page: Page;
    if (fromPeers) {
      page = new Page(slug, { protection: fromPeers.protection, originVector: fromPeers.originVector, revision: fromPeers.revision });
      page.claims.learn(fromPeers.claims);
      Y.applyUpdate(page.doc, fromPeers.update, { kind: "load" } satisfies UpdateOrigin);
      // What the peer held beyond the origin may be there because its own
      // log append failed: written again before an ack here relies on it
      // (once, shared), unless a flush of a later change covers it first.
      // Deletions alone do not show here, as in OriginFollowing.peerFlushed.
      const beyondOrigin = Y.encodeStateAsUpdate(page.doc, page.originVector);
      if (Y.parseUpdateMeta(beyondOrigin).to.size > 0) this.writes.unverified(page, beyondOrigin, page.dirtyGeneration + 1);
      this.metrics.bootstraps.inc({ source: "peer" });
      // A peer's answer does not say whether an admin deleted the page.
      void this.deletions.check(page);
    } else {
      const state = await this.stateFromOriginOrLog(slug);
      page = new Page(slug, { protection: state.protection, originVector: state.originVector, revision: state.revision });
      if (state.source === "origin" && state.deleted) page.deleted = fitCloseReason(deletedPageMessage(state.deleted.reason));
      if (state.source === "origin" && state.movedTo) page.movedTo = state.movedTo;
      // Rebuilt from the PoP log, the flag is unknown: ask as after a peer's bootstrap.
      if (state.source === "log") void this.deletions.check(page);
      if (state.source === "origin") page.claims.settle(state.claims);
      else page.claims.learn(state.claims);
      Y.applyUpdate(page.doc, state.state, { kind: "load" } satisfies UpdateOrigin);
      this.metrics.bootstraps.inc({ source: state.source });
    }
    this.wire(page);
    this.peers.attach(page);
    // The page's flusher in this PoP must hear its updates: ask it to hold it.
    this.following.askFlusherToHold(page);
    if (fromPeers) this.peers.pull(page);
    await this.popLog?.replayPage(page);
    return page;
  }

  /** The page from the origin or, when the origin does not answer, from the PoP log's checkpoints (at `pop`). */
  private async stateFromOriginOrLog(slug: Slug) {
    try {
      const state = await this.deps.origin.pageState(slug);
      return {
        source: "origin" as const,
        state: fromBase64(state.state),
        protection: state.protection,
        deleted: state.deleted ?? null,
        movedTo: state.movedTo ?? null,
        originVector: fromBase64(state.stateVector),
        revision: state.revision,
        claims: state.claims ?? [],
      };
    } catch (error) {
      const logged = await this.popLog?.loggedPage(slug);
      if (!logged) throw error;
      this.log.info({ slug, err: error }, "origin unavailable: page rebuilt from the PoP log");
      return { source: "log" as const, ...logged };
    }
  }

  /** Routes every change of a page's document and awareness by where it came from. */
  private wire(page: Page): void {
    page.doc.on("update", (update: Uint8Array, origin: UpdateOrigin) => {
      page.lastActive = Date.now();
      this.fanout.update(page, update, origin.kind === "client" ? origin.connections : undefined);
      switch (origin.kind) {
        case "client":
          // At `origin` durability the write-through commit carries the edit count.
          page.markDirty(update.byteLength, this.durability === "origin" ? 0 : origin.edits, origin.authors);
          // At `pop` the PoP's log carries the update to the peers, in order.
          {
            // Whose each client id is travels with the structs (issue 18).
            const claims = page.claimsOf(update);
            if (this.durability !== "pop") this.toPeers(page, () => this.peers.publishUpdate(page.slug, update, [...origin.authors], origin.edits, claims));
            if (this.deps.config.crossPopRelay) this.toPeers(page, () => this.peers.publishRelay(page.slug, update, claims));
          }
          break;
        case "peer":
          page.markDirty(update.byteLength, origin.edits, origin.authors);
          // From a peer's memory (anti-entropy, a drain): maybe there because its write failed.
          this.writes.unverified(page, update);
          break;
        case "log":
          page.markDirty(update.byteLength, origin.edits);
          break;
        case "origin":
          this.toPeers(page, () => this.peers.publishUpdate(page.slug, update, [], 0, page.claimsOf(update)));
          break;
        case "relay":
          // Shown to this replica's clients only: the PoP that accepted it
          // flushes it, and every replica here that holds the page heard the
          // same relay. Not dirty here, so that it costs no origin write.
          break;
        case "load":
          break;
        default:
          origin satisfies never;
      }
    });
    page.awareness.on("update", ({ added, updated, removed }: AwarenessChange, origin: unknown) => {
      // Peers hear of what changed here (clients, closes, timeouts), merged per window.
      const here = (origin as { kind?: string } | undefined)?.kind !== "peer";
      if (removed.length > 0) page.noteDepartures(removed);
      this.fanout.awareness(page, [...added, ...updated, ...removed], here);
    });
  }

  /**
   * A publish the broker refuses (closed, or a merged update over its
   * payload limit) must not stop the rest: the update is applied and
   * acknowledged here, and anti-entropy brings it to the peers.
   */
  private toPeers(page: Page, publish: () => void): void {
    try {
      publish();
    } catch (error) {
      this.log.warn({ err: error, slug: page.slug }, "could not publish an update to the peers; anti-entropy will carry it");
    }
  }

  private updateGauges(): void {
    this.unflushedTotal = measurePages(this.pages.all(), this.membership, this.metrics);
  }

  private every(ms: number, task: () => void): void {
    const timer = setInterval(task, ms);
    timer.unref();
    this.timers.push(timer);
  }
}

interface AwarenessChange {
  added: number[];
  updated: number[];
  removed: number[];
}
