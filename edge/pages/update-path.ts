import * as awarenessProtocol from "y-protocols/awareness";
import * as Y from "yjs";
import type { Broker } from "../../broker/broker";
import type { Logger } from "../../common/logger";
import type { Slug } from "../../common/slug";
import type { ClientClaimList } from "../../protocol/envelope";
import type { DurabilityLevel } from "../../protocol/messages";
import type { HostedClient } from "../clients/connection-host";
import { Fanout } from "../clients/fanout";
import type { EdgeConfig } from "../config";
import type { EdgeMetrics } from "../metrics";
import { type Durability, inMemory } from "../pop/durability";
import { Peers } from "../pop/peers";
import type { PopLog, PopLogHost } from "../pop/pop-log";
import { ClientIdScreening } from "./client-id-screening";
import { PageRegistry } from "./documents";
import type { PageLoaderDeps } from "./page-loader";
import type { Page, UpdateOrigin } from "./page";
import { TickBatcher } from "./tick-batch";
import { routeUpdates, shareWithPeers } from "./update-routing";

export interface UpdatePathDeps {
  config: EdgeConfig;
  broker: Broker;
  metrics: EdgeMetrics;
  log: Logger;
  /** Loads a page the replica does not hold (page-loader.ts). */
  load: (slug: Slug) => Promise<Page>;
  /** A peer's flusher got the origin's commit of a page (origin-following.ts). */
  peerFlushed: (page: Page, stateVector: Uint8Array, revision: number) => void;
  /** Whether to load a page a peer asks this replica to hold: it flushes it, and is not draining. */
  holdsFor: (slug: string) => boolean;
}

/**
 * The way a page's updates travel through a replica: in from its clients,
 * its peers, other PoPs' relays and its PoP log, each screened for whose
 * client ids it uses and applied with the others of its tick (tick-batch.ts);
 * out to its clients (fan-out), its peers and its durable writes by where
 * it came from (update-routing.ts). It holds the pages, and is the PoP
 * log's host.
 */
export class UpdatePath implements PopLogHost {
  readonly replica: string;
  readonly screening: ClientIdScreening;
  readonly batch: TickBatcher;
  readonly fanout: Fanout;
  readonly pages: PageRegistry;
  readonly peers: Peers;
  /** How client updates are made durable: from memory until start-up opens the PoP log or the origin's write-through. */
  writes: Durability = inMemory();
  popLog: PopLog | undefined;

  constructor(private readonly deps: UpdatePathDeps) {
    const { config, metrics, log } = deps;
    this.replica = config.replica;
    this.screening = new ClientIdScreening({ metrics, log });
    this.batch = new TickBatcher(config.fanoutMaxBytes, (page, error) => log.warn({ err: error, slug: page.slug }, "an update could not be applied; anti-entropy repairs a peer's"));
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
          log.debug({ err: error, slug: page.slug }, "could not share presence with the peers");
        }
      },
      publishUpdates: (page, update, authors, edits) =>
        shareWithPeers(page, update, authors, edits, { durability: config.durability, crossPopRelay: config.crossPopRelay, peers: this.peers, log }),
      flushed: (clients, bytes, seconds) => {
        metrics.fanoutFlushSeconds.observe(seconds);
        metrics.fanoutBytes.inc(clients * bytes);
      },
    });
    this.pages = new PageRegistry(
      deps.load,
      {
        loaded: () => metrics.pagesHeld.set(this.pages.size),
        pinned: (page) => this.batch.holds(page),
        evicted: (page) => {
          this.fanout.flush(page);
          this.peers.detach(page.slug);
          metrics.pagesHeld.set(this.pages.size);
        },
      },
      config.maxPages,
    );
    const { screening, batch } = this;
    this.peers = new Peers(deps.broker, config.pop, config.replica, (slug) => this.pages.get(slug), {
      onUpdate: (page, update, from) => batch.peer(page, screening.screen(page, update, from.claims, "peer", from.replica), from.authors, from.edits),
      onAwareness: (page, update, replica) => awarenessProtocol.applyAwarenessUpdate(page.awareness, update, { kind: "peer", replica }),
      onRelay: (page, update, from) => batch.relay(page, screening.screen(page, update, from.claims, "relay", from.replica)),
      onFlushed: (page, stateVector, revision) => deps.peerFlushed(page, stateVector, revision),
      onHold: (slug) => {
        if (deps.holdsFor(slug)) {
          void this.pages.open(slug as Slug).catch((error: unknown) => log.warn({ err: error, slug }, "could not hold a page for a peer"));
        }
      },
    }, log);
  }

  /** What the page loader needs of the path: where a loaded page's changes go, and the durability and PoP log set at start-up. */
  loaderHooks(): Pick<PageLoaderDeps, "route" | "writes" | "popLog"> {
    const { config, log } = this.deps;
    const routing = { durability: config.durability, crossPopRelay: config.crossPopRelay, fanout: this.fanout, peers: this.peers, writes: () => this.writes, log };
    return { route: (page) => routeUpdates(page, routing), writes: () => this.writes, popLog: () => this.popLog };
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

  /** What the origin sent (origin-following.ts): its own commits are screened against the claims the page holds. */
  applyFollowed(page: Page, update: Uint8Array, origin: UpdateOrigin): void {
    if (origin.kind === "origin") this.screening.applyFromOrigin(page, update);
    else this.apply(page, update, origin);
  }

  // --- the PoP log's host ---------------------------------------------------

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

  /** Applies an update to a page; the doc's update handler routes it. */
  apply(page: Page, update: Uint8Array, origin: UpdateOrigin): void {
    Y.applyUpdate(page.doc, update, origin);
  }

  applyLogEntry(page: Page, update: Uint8Array, sequence: bigint, edits: number): void {
    this.batch.log(page, this.screening.screen(page, update, [], "log", "log"), sequence, edits);
  }

  learnClaims(page: Page, claims: ClientClaimList, from: string): void {
    this.screening.learnClaims(page, claims, from);
  }

  applyPending(page: Page): boolean {
    return this.batch.holds(page);
  }
}
