import type { Broker, DurableLog, Unsubscribe } from "../broker/broker";
import type { Logger } from "../common/logger";
import { subjects } from "../protocol/subjects";
import type { ConnectionRechecks } from "./auth/connection-rechecks";
import type { PageDeletions } from "./auth/page-deletions";
import { removeOutdatedPresence } from "./clients/presence";
import type { EdgeConfig } from "./config";
import type { EdgeMetrics } from "./metrics";
import type { OriginFollowing } from "./origin-sync/origin-following";
import type { PageRegistry } from "./pages/documents";
import type { Membership } from "./pop/membership";
import type { Peers } from "./pop/peers";

/** A replica's interval timers, unref'd so that they never keep a process alive, cleared together on stop. */
export class Timers {
  private readonly timers: NodeJS.Timeout[] = [];

  every(ms: number, task: () => void): void {
    const timer = setInterval(task, ms);
    timer.unref();
    this.timers.push(timer);
  }

  stop(): void {
    for (const timer of this.timers) clearInterval(timer);
  }
}

/**
 * Notices of blocks and page deletions are at most once: the origin's list,
 * read now and every EDGE_BLOCK_RECHECK_MS, bounds how long a lost one
 * leaves a block unenforced; the held pages are asked about as often.
 */
export function rereadNotices(timers: Timers, deps: { blockRecheckMs: number; rechecks: ConnectionRechecks; deletions: PageDeletions }): void {
  void deps.rechecks.rereadBlocks();
  timers.every(deps.blockRecheckMs, () => void deps.rechecks.rereadBlocks());
  timers.every(deps.blockRecheckMs, () => void deps.deletions.reread());
}

export interface UpkeepDeps {
  config: EdgeConfig;
  broker: Broker;
  pages: PageRegistry;
  peers: Peers;
  rechecks: ConnectionRechecks;
  metrics: EdgeMetrics;
  /** The PoP's log, once open (at `pop`): its entry count is a gauge. */
  durableLog: () => DurableLog | undefined;
  /** Sets the page gauges and the unflushed bytes the capacity check reads. */
  measurePages: () => void;
}

/** A running replica's periodic work: presence timeouts, token expiry, anti-entropy, idle eviction and gauges. */
export function startUpkeep(timers: Timers, deps: UpkeepDeps): void {
  const { config, broker, pages, metrics } = deps;
  timers.every(Math.max(100, Math.floor(config.awarenessTimeoutMs / 10)), () => {
    const now = Date.now();
    for (const page of pages.all()) {
      metrics.presenceTimeouts.inc(removeOutdatedPresence(page.awareness, config.awarenessTimeoutMs, now).length);
      page.forgetDeparturesBefore(now - config.clientBehindMs - 1000);
    }
  });
  // A token is checked when the socket opens; one that expires while the
  // socket is open must not keep it open for good (a role change or a
  // deleted account reaches the edge only through a new token).
  timers.every(Math.max(100, Math.min(5000, Math.floor(config.tokenGraceMs / 2))), () => deps.rechecks.closeExpired(Date.now()));
  timers.every(config.antiEntropyMs, () => {
    for (const page of pages.all()) deps.peers.pull(page);
  });
  timers.every(Math.max(1000, Math.floor(config.idleEvictMs / 4)), () => pages.evictIdle(config.idleEvictMs));
  timers.every(1000, () => deps.measurePages());
  timers.every(config.brokerStatsMs, () => {
    broker
      .ping()
      .then((ms) => metrics.brokerRttSeconds.set(ms / 1000))
      .catch(() => {});
    // One stream-info request per replica every 5 s by default: cheap enough to keep.
    deps
      .durableLog()
      ?.entryCount()
      .then((entries) => metrics.popLogEntries.set(entries))
      .catch(() => {});
  });
}

export interface ListeningDeps {
  broker: Broker;
  membership: Membership;
  pages: PageRegistry;
  peers: Peers;
  following: OriginFollowing;
  rechecks: ConnectionRechecks;
  deletions: PageDeletions;
  metrics: EdgeMetrics;
  log: Logger;
}

/** What a running replica hears: membership changes, the broker's reconnects, and the origin's notices of changed pages, blocks and deletions. */
export function listen(deps: ListeningDeps): Unsubscribe[] {
  const { broker, membership, pages, metrics } = deps;
  // A lone replica's membership never changes: set the gauge once, or it reads 0 members.
  metrics.members.set(membership.list().length);
  return [
    membership.onChange(() => metrics.members.set(membership.list().length)),
    membership.onChange(() => {
      for (const page of pages.all()) deps.following.askFlusherToHold(page);
    }),
    broker.onReconnect(() => {
      deps.log.info("broker reconnected: running anti-entropy for every page held");
      for (const page of pages.all()) deps.peers.pull(page);
    }),
    broker.subscribe(subjects.pageChanged(), (message) => deps.following.pageChanged(message.data)),
    broker.subscribe(subjects.userBlocks(), (message) => deps.rechecks.blockNoticeHeard(message.data)),
    broker.subscribe(subjects.pageDeletions(), (message) => deps.deletions.noticeHeard(message.data)),
  ];
}
