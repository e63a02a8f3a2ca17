import type { DurabilityLevel } from "../../protocol/messages";
import { subjects } from "../../protocol/subjects";
import { type RunningPops, scrapeMetrics } from "../load/bench-system";
import type { EdgeProcess } from "../../tests/support/edge-process";
import { type ReplicaRef, replicaText } from "./convergence";
import type { ManagedDeployment } from "./deployment";
import type { LevelReport, SpikeSettings } from "./level-report";
import type { SpikeShape } from "./scenarios";

/**
 * What happens to the deployment during the peak, on the harness's own
 * deployment: a replica joins (and the time until it serves the hottest
 * page is its bootstrap time), a replica is SIGKILLed, the origin is
 * SIGKILLed and restarted. `replicas` is the verification's list: the
 * added one joins it, the killed one leaves it.
 */
export class MidSpikeEvents {
  readonly faults: LevelReport["faults"] = [];
  added: EdgeProcess | undefined;
  bootstrap: LevelReport["bootstrap"] = null;
  private readonly scheduled: Promise<void>[] = [];

  constructor(
    private readonly context: {
      deployment: ManagedDeployment;
      pops: RunningPops;
      level: DurabilityLevel;
      settings: SpikeSettings;
      hottest: string;
      token: string;
      replicas: ReplicaRef[];
      measureFrom: number;
      shape: SpikeShape;
      log: (line: string) => void;
    },
  ) {
    const { settings, shape } = context;
    const span = shape.peakToS - shape.peakFromS;
    if (settings.addReplica) this.at(shape.peakFromS + 0.25 * span, () => this.addReplica());
    if (settings.stopOriginS > 0) this.at(shape.peakFromS + 0.4 * span, () => this.stopOrigin());
    if (settings.killReplica) this.at(shape.peakFromS + 0.5 * span, () => this.killReplica());
    if (settings.partitionPopS > 0) this.at(shape.peakFromS + 0.2 * span, () => this.partitionPop());
    if (settings.killNats) this.at(shape.peakFromS + 0.3 * span, () => this.killNats());
    if (settings.restartNatsS > 0) this.at(shape.peakFromS + 0.4 * span, () => this.restartNats());
    if (settings.restartPostgresS > 0) this.at(shape.peakFromS + 0.4 * span, () => this.restartPostgres());
  }

  /** Resolves when every scheduled event has happened (or failed, which is recorded). */
  async done(): Promise<void> {
    await Promise.all(this.scheduled);
  }

  async close(): Promise<void> {
    this.added?.kill("SIGTERM");
    await this.added?.exited;
  }

  private atS(): number {
    return Math.round((Date.now() - this.context.measureFrom) / 100) / 10;
  }

  private at(seconds: number, action: () => Promise<void>): void {
    const delay = Math.max(0, this.context.measureFrom + seconds * 1000 - Date.now());
    this.scheduled.push(
      new Promise((resolve) => setTimeout(resolve, delay))
        .then(action)
        .catch((error: unknown) => {
          this.faults.push({ atS: this.atS(), what: "event failed", detail: (error as Error).message });
          this.context.log(`  mid-spike event failed: ${(error as Error).message}`);
        }),
    );
  }

  private async addReplica(): Promise<void> {
    const { deployment, pops, level, settings, hottest, token, replicas, log } = this.context;
    const pop = pops.pops[0]!;
    const name = `${pop}-added`;
    const at = this.atS();
    const spawnedAt = Date.now();
    const added = (this.added = await restartedOnFailure(() => deployment.addReplica(pop, name, level, settings.flushMs), log));
    const processReadyMs = Date.now() - spawnedAt;
    const syncStarted = Date.now();
    const text = await retryRefused(() => replicaText({ replica: name, url: added.url }, hottest, token, 30_000), 30_000);
    const firstSyncMs = Date.now() - syncStarted;
    const metrics = await scrapeMetrics(added.httpUrl).catch(() => new Map<string, number>());
    const loadedFrom: Record<string, number> = {};
    for (const [key, value] of metrics) {
      const source = /^weirwood_edge_page_loads_total\{source="([^"]+)"\}$/.exec(key)?.[1];
      if (source) loadedFrom[source] = value;
    }
    this.bootstrap = { replica: name, processReadyMs, firstSyncMs, pageBytes: Buffer.byteLength(text), loadedFrom };
    replicas.push({ replica: name, url: added.url });
    this.faults.push({ atS: at, what: "replica added", detail: `${name}: process ready in ${processReadyMs} ms, ${hottest} (${this.bootstrap.pageBytes} bytes) synced in ${firstSyncMs} ms` });
    log(`  + replica ${name} added: ready in ${processReadyMs} ms, first sync of the hottest page in ${firstSyncMs} ms (loads ${JSON.stringify(loadedFrom)})`);
  }

  private async killReplica(): Promise<void> {
    const { pops, replicas, log } = this.context;
    // The first PoP's second replica: its first keeps that PoP's browsers, which would otherwise reconnect too.
    const victim = pops.edges.find((edge) => edge.pop === pops.pops[0] && edge !== pops.edges[0]) ?? pops.edges[0]!;
    victim.kill("SIGKILL");
    const index = replicas.findIndex((replica) => replica.replica === victim.replica);
    if (index >= 0) replicas.splice(index, 1);
    this.faults.push({ atS: this.atS(), what: "replica killed", detail: `${victim.replica} (SIGKILL)` });
    log(`  ! replica ${victim.replica} killed with SIGKILL`);
  }

  private async stopOrigin(): Promise<void> {
    const { deployment, settings, log } = this.context;
    log(`  ! origin stopped (SIGKILL) for ${settings.stopOriginS} s`);
    const at = this.atS();
    const { downMs } = await deployment.stopOrigin(settings.stopOriginS * 1000);
    this.faults.push({ atS: at, what: "origin stopped", detail: `SIGKILL, restarted after ${settings.stopOriginS} s: unreachable for ${downMs} ms` });
    log(`  ! origin back after ${downMs} ms`);
  }

  /** The first PoP's NATS servers, which the engine faults hit. */
  private natsPop() {
    const { deployment, pops } = this.context;
    const pop = pops.pops[0]!;
    const servers = deployment.nats.natsPop(pop);
    if (!servers) throw new Error(`spike: ${pop} has no NATS servers of the run's own (--nats ${deployment.nats.kind}); NATS faults need --nats cluster or single`);
    return { pop, servers };
  }

  /** The server leading the first PoP's log stream: the one whose loss costs the most (an election). */
  private async logLeader() {
    const { pop, servers } = this.natsPop();
    const stream = subjects.logStream(pop);
    const leaderName = await waitFor(() => this.context.deployment.nats.streamLeader(pop, stream), 10_000);
    const leader = servers.servers.find((server) => server.name === leaderName);
    if (!leader) throw new Error(`spike: no running server of ${pop} leads ${stream} (jsz says ${leaderName ?? "none"})`);
    return { pop, leader, stream };
  }

  private async killNats(): Promise<void> {
    const { log } = this.context;
    const at = this.atS();
    const { pop, leader, stream } = await this.logLeader();
    await leader.kill("SIGKILL");
    this.faults.push({ atS: at, what: "NATS server killed", detail: `${leader.name} (SIGKILL, not restarted), leader of ${pop}'s log ${stream}` });
    log(`  ! NATS server ${leader.name}, leader of ${pop}'s log, killed with SIGKILL (for good)`);
  }

  private async restartNats(): Promise<void> {
    const { settings, log } = this.context;
    const at = this.atS();
    const { pop, leader, stream } = await this.logLeader();
    const stoppedAt = Date.now();
    await leader.kill("SIGKILL");
    log(`  ! NATS server ${leader.name} (${pop}'s log ${stream}) killed with SIGKILL; restarting in ${settings.restartNatsS} s`);
    await new Promise((resolve) => setTimeout(resolve, settings.restartNatsS * 1000));
    await leader.start();
    const downMs = Date.now() - stoppedAt;
    this.faults.push({ atS: at, what: "NATS server restarted", detail: `${leader.name} (log ${stream}): SIGKILL, started again with its store, down ${downMs} ms` });
    log(`  ! NATS server ${leader.name} back after ${downMs} ms`);
  }

  private async partitionPop(): Promise<void> {
    const { deployment, settings, log } = this.context;
    const at = this.atS();
    const { pop, servers } = this.natsPop();
    if (!servers.link) throw new Error(`spike: ${pop}'s link to the hub cannot be cut`);
    servers.link.cut();
    log(`  ! ${pop} cut off the hub (its leaf links) for ${settings.partitionPopS} s`);
    await new Promise((resolve) => setTimeout(resolve, settings.partitionPopS * 1000));
    servers.link.restore();
    this.faults.push({
      atS: at,
      what: "PoP partitioned",
      detail: `${pop}'s ${servers.servers.length} NATS server(s) cut off the hub (origin and other PoPs) for ${settings.partitionPopS} s (${deployment.nats.kind})`,
    });
    log(`  ! ${pop}'s link to the hub restored`);
  }

  private async restartPostgres(): Promise<void> {
    const { deployment, settings, log } = this.context;
    const at = this.atS();
    log(`  ! Postgres crash-stopped (pg_ctl -m immediate) for ${settings.restartPostgresS} s`);
    const { downMs } = await deployment.restartPostgres(settings.restartPostgresS * 1000);
    this.faults.push({ atS: at, what: "Postgres restarted", detail: `pg_ctl stop -m immediate, started again after ${downMs} ms` });
    log(`  ! Postgres back after ${downMs} ms`);
  }
}

/**
 * A replica whose NATS server is down at start exits saying so (fail fast,
 * for a configuration error); its supervisor starts it again, as the guide's
 * systemd unit does (Restart=on-failure). The harness does the same for the
 * replica it adds mid-spike, when that meets a NATS fault.
 */
async function restartedOnFailure(start: () => Promise<EdgeProcess>, log: (line: string) => void, timeoutMs = 60_000): Promise<EdgeProcess> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await start();
    } catch (error) {
      if (!/cannot connect to nats/iu.test((error as Error).message) || Date.now() > deadline) throw error;
      log("  (the added replica found its NATS down and exited; starting it again in 1 s, as systemd would)");
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}

async function waitFor<T>(check: () => Promise<T | undefined>, timeoutMs: number): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Retries while the edge answers "retry shortly" (4503: it cannot reach the origin's keys yet, as while the origin is down or overloaded). */
async function retryRefused<T>(attempt: () => Promise<T>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (!/ 4503 /u.test((error as Error).message) || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}
