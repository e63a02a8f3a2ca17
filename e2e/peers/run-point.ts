import { randomBytes } from "node:crypto";
import type { Percentiles } from "../load/stats";
import { type UsageTarget, UsageSampler } from "../load/process-usage";
import { Crowd, type LoadPoint } from "./crowd";
import { type Pinning, pin } from "./pinning";
import {
  checkpoint,
  otherDatabasesWal,
  type PostgresWrites,
  STATS_LAG_MS,
  postgresWritesBetween,
  readPostgresCounters,
  type RelationWal,
  vacuumDatabase,
  walByRelation,
} from "./postgres-counters";
import { markerIds } from "./timed-marker";
import type { BenchServices, RunningSystem, SystemSpec } from "./system";

export interface PointOptions {
  services: BenchServices;
  probes: number;
  workers: number;
  /** Cores for the servers under test (taskset); undefined: no pinning. */
  serverCores: string | undefined;
  /** How long to wait for every marker to be stored before declaring the rest missing. */
  storeTimeoutMs: number;
  /**
   * How long the measuring window stays open after the probes drained;
   * default two persist intervals and the statistics' lag. The quick test,
   * which asserts no figure, closes it at once (and opens it without waiting
   * for the statistics either).
   */
  windowAfterLoadMs?: number;
}

export interface ProcessFigures {
  name: string;
  cpuSeconds: number;
  cpuSecondsPer1000Edits: number;
  maxRssMiB: number;
}

export interface PointResult {
  system: string;
  label: string;
  load: LoadPoint;
  sent: number;
  delivery: { latencyMs: Percentiles; delivered: number; expected: number; ratio: number };
  /** Markers sent that are in the page as stored in Postgres after quiescence, and those that are not. */
  storedMarkers: number;
  missingFromStore: number;
  /**
   * Every marker was in Postgres when the measuring window closed (the load,
   * then two persist intervals): false means the WAL and CPU figures miss
   * writes that came later.
   */
  storedInWindow: boolean;
  processes: ProcessFigures[];
  serverCpuSecondsPer1000Edits: number;
  postgres: PostgresWrites & { otherDatabasesWalBytes: number; walByRelation?: RelationWal[]; walBytesPer1000Edits: number; maintenanceWalBytesPer1000Edits: number; transactionsPer1000Edits: number; writeTransactionsPer1000Edits: number; tuplesPer1000Edits: number };
  machineBusyPercent: number;
  pinning: Pinning[];
}

export interface CrashResult {
  system: string;
  label: string;
  load: LoadPoint;
  sent: number;
  /** ms after the load's start when the servers were SIGKILLed. */
  killedAfterMs: number;
  /** Markers sent more than 1 s before the kill. */
  sentBeforeKill: number;
  /** Of those, the markers not in Postgres once the systems were restarted and quiet. */
  lostBeforeKill: number;
  /** Markers of the whole run found in Postgres. */
  stored: number;
}

/** Both systems persist on a 2,000 ms beat by default: Weirwood's EDGE_FLUSH_MS, Hocuspocus's debounce. */
const PERSIST_INTERVAL_MS = 2000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls the stored page until `done` holds for it or `timeoutMs` passes; answers its last ids and when they were read. */
async function watchStore(system: RunningSystem, slug: string, done: (ids: Set<string>, text: string) => boolean, timeoutMs: number): Promise<{ ids: Set<string>; met: boolean }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = await system.storedText(slug);
    const ids = markerIds(text);
    if (done(ids, text)) return { ids, met: true };
    if (Date.now() > deadline) return { ids, met: false };
    await sleep(250);
  }
}

interface Prepared {
  system: RunningSystem;
  crowd: Crowd;
  slug: string;
  pinning: Pinning[];
}

async function prepare(spec: SystemSpec, load: LoadPoint, options: PointOptions): Promise<Prepared> {
  const { log } = options.services;
  log(`${spec.label}: starting (${load.clients} clients, ${load.ratePerSecond} edits/s, ${load.durationMs / 1000} s)`);
  const system = await spec.start(options.services);
  try {
    const pinning = options.serverCores === undefined ? [] : system.processes().map((p) => pin(p.name, p.pid, options.serverCores!));
    // A slug of the wiki's form (capitalized, "_" for spaces), which Hocuspocus takes as any document name.
    const slug = `Peers_${randomBytes(4).toString("hex")}`;
    const crowd = await Crowd.connect({ kind: system.provider, urls: system.urls, slug, tokens: system.tokens, clients: load.clients, probes: options.probes, workers: options.workers, log });
    try {
      // The seats are stored before anything is measured, so that the window holds the load alone.
      const lastSeat = `seat ${load.clients - 1}:`;
      const seats = await watchStore(system, slug, (_, text) => text.includes(lastSeat), 30_000);
      if (!seats.met) throw new Error(`peers: ${spec.label} did not store the page's seat lines within 30 s`);
      return { system, crowd, slug, pinning };
    } catch (error) {
      await crowd.close();
      throw error;
    }
  } catch (error) {
    await system.close();
    throw error;
  }
}

function usageTargets(system: RunningSystem): UsageTarget[] {
  return [
    ...system.processes().map((p) => ({ name: p.name, pid: p.pid })),
    ...system.sharedServices.map((s) => ({ name: s.name, comm: s.comm })),
    // Postgres backends connected to this system's database (their command line names it).
    { name: "Postgres backends", cmdline: ` ${system.databaseName} ` },
  ];
}

/** One system at one load point: load, drain to the probes, wait until Postgres holds every marker, measure. */
export async function runPoint(spec: SystemSpec, load: LoadPoint, options: PointOptions): Promise<PointResult> {
  const { system, crowd, slug, pinning } = await prepare(spec, load, options);
  try {
    const sampler = new UsageSampler(usageTargets(system), 250);
    // The seats' writes, and the vacuum of what came before the load, must be in the counters read as "before".
    await vacuumDatabase(options.services.pgUrl, system.databaseName, { analyze: true });
    await checkpoint(options.services.pgUrl);
    await sleep(options.windowAfterLoadMs === 0 ? 0 : STATS_LAG_MS);
    const before = await readPostgresCounters(options.services.pgUrl, system.databaseName);
    const from = Date.now();
    const run = await crowd.run(load);
    const delivery = await crowd.drain(run.sent.size, 15_000);
    // No reads of the stored page inside the window (they would count as the
    // system's transactions): two persist intervals for the last flush or
    // debounced store, then the statistics' lag; what is stored is checked after.
    await sleep(options.windowAfterLoadMs ?? (spec.settleMs ?? 2 * PERSIST_INTERVAL_MS) + STATS_LAG_MS);
    const settled = await readPostgresCounters(options.services.pgUrl, system.databaseName);
    await vacuumDatabase(options.services.pgUrl, system.databaseName);
    await sleep(options.windowAfterLoadMs === 0 ? 0 : STATS_LAG_MS);
    const after = await readPostgresCounters(options.services.pgUrl, system.databaseName);
    const to = Date.now();
    sampler.stop();
    const usage = sampler.report(from, to);
    const atWindowEnd = markerIds(await system.storedText(slug));
    const storedInWindow = [...run.sent.keys()].every((id) => atWindowEnd.has(id));
    const stored = await watchStore(system, slug, (ids) => [...run.sent.keys()].every((id) => ids.has(id)), options.storeTimeoutMs);
    const per1000 = (value: number) => (run.sent.size === 0 ? Number.NaN : (value * 1000) / run.sent.size);
    const processes = usage.processes.map((p) => {
      const cpuSeconds = p.cpuSeconds;
      return { name: p.name, cpuSeconds: round(cpuSeconds, 2), cpuSecondsPer1000Edits: round(per1000(cpuSeconds), 3), maxRssMiB: p.maxRssMiB };
    });
    const window = await postgresWritesBetween(options.services.pgUrl, before, after, settled);
    // Where it went, while the system's database still names its relations.
    const relations = await walByRelation(options.services.pgUrl, system.databaseName, window).catch((error: unknown) => {
      options.services.log(`${spec.label}: no WAL breakdown (${(error as Error).message})`);
      return undefined;
    });
    // The server's WAL is shared: what other databases wrote in the window is not this system's.
    const otherDatabasesWalBytes = otherDatabasesWal(relations);
    const writes = { ...window, walBytes: window.walBytes - otherDatabasesWalBytes, otherDatabasesWalBytes };
    if (relations) {
      const kb = (bytes: number) => `${(bytes / 1000).toFixed(1)} kB`;
      options.services.log(`${spec.label}: WAL by relation: ${relations.slice(0, 8).map((r) => `${r.relation} ${kb(r.bytes)}${r.fpiBytes > 0 ? ` (FPI ${kb(r.fpiBytes)})` : ""}`).join(", ")}`);
    }
    const storedMarkers = [...run.sent.keys()].filter((id) => stored.ids.has(id)).length;
    const missing = run.sent.size - storedMarkers;
    options.services.log(
      `${spec.label}: sent ${run.sent.size}, delivery p50 ${delivery.latencyMs.p50} ms p99 ${delivery.latencyMs.p99} ms, ` +
        `${delivery.delivered}/${delivery.expected} delivered, missing from Postgres ${missing}, WAL ${(writes.walBytes / 1e6).toFixed(2)} MB`,
    );
    return {
      system: spec.id,
      label: spec.label,
      load,
      sent: run.sent.size,
      delivery: { ...delivery, ratio: delivery.expected === 0 ? Number.NaN : round(delivery.delivered / delivery.expected, 4) },
      storedMarkers,
      missingFromStore: missing,
      storedInWindow,
      processes,
      serverCpuSecondsPer1000Edits: round(
        processes.reduce((sum, p) => sum + p.cpuSecondsPer1000Edits, 0),
        3,
      ),
      postgres: {
        ...writes,
        walByRelation: relations?.slice(0, 15),
        walBytesPer1000Edits: Math.round(per1000(writes.walBytes)),
        maintenanceWalBytesPer1000Edits: Math.round(per1000(writes.maintenanceWalBytes)),
        transactionsPer1000Edits: round(per1000(writes.transactions), 2),
        writeTransactionsPer1000Edits: round(per1000(writes.writeTransactions), 2),
        tuplesPer1000Edits: round(per1000(writes.tuplesWritten), 2),
      },
      machineBusyPercent: usage.machineBusyPercent,
      pinning,
    };
  } finally {
    await crowd.close();
    await system.close();
  }
}

/**
 * The crash point: SIGKILL the system's servers `killAfterMs` into the load,
 * restart them over the same database, wait until the stored page stops
 * changing, and count the markers sent more than a second before the kill
 * that Postgres never got.
 */
export async function runCrash(spec: SystemSpec, load: LoadPoint, killAfterMs: number, options: PointOptions): Promise<CrashResult> {
  const { system, crowd, slug } = await prepare(spec, load, options);
  try {
    let killedAtMs = Number.NaN;
    let crashed: Promise<void> = Promise.resolve();
    const run = await crowd.run(load, (startMs) => {
      setTimeout(() => {
        killedAtMs = Date.now() - crowd.epoch;
        crashed = system.crash();
      }, Math.max(0, startMs + killAfterMs - (Date.now() - crowd.epoch)));
    });
    await crashed;
    if (Number.isNaN(killedAtMs)) throw new Error(`peers: the crash of ${spec.label} was planned ${killAfterMs} ms into a ${load.durationMs} ms load and did not happen`);
    await system.restart();
    if (options.serverCores !== undefined) for (const p of system.processes()) pin(p.name, p.pid, options.serverCores);
    const eligible = [...run.sent].filter(([, sentMs]) => sentMs < killedAtMs - 1000).map(([id]) => id);
    // Quiet: every eligible marker is stored, or the stored page has not changed for three persist intervals.
    let last = "";
    let unchangedSince = Date.now();
    const stored = await watchStore(
      system,
      slug,
      (ids, text) => {
        if (text !== last) {
          last = text;
          unchangedSince = Date.now();
        }
        return eligible.every((id) => ids.has(id)) || Date.now() - unchangedSince > 6000;
      },
      options.storeTimeoutMs,
    );
    const lost = eligible.filter((id) => !stored.ids.has(id)).length;
    options.services.log(`${spec.label} crash: ${lost} of ${eligible.length} markers sent > 1 s before the SIGKILL never reached Postgres`);
    return {
      system: spec.id,
      label: spec.label,
      load,
      sent: run.sent.size,
      killedAfterMs: Math.round(killedAtMs - run.startMs),
      sentBeforeKill: eligible.length,
      lostBeforeKill: lost,
      stored: [...run.sent.keys()].filter((id) => stored.ids.has(id)).length,
    };
  } finally {
    await crowd.close();
    await system.close();
  }
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
