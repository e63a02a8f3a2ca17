import type { DurabilityLevel } from "../../edge/protocol/messages";
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
    const added = (this.added = await deployment.addReplica(pop, name, level, settings.flushMs));
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
