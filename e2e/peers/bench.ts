import { readFileSync } from "node:fs";
import { cpus } from "node:os";
import type { LoadPoint } from "./crowd";
import { hocuspocusSpec } from "./hocuspocus-system";
import { coreSplit, pin, type Pinning } from "./pinning";
import { type CrashResult, type PointResult, runCrash, runPoint } from "./run-point";
import { type PeersReport, commitOf, compare, crashSentences, machineInfo } from "./report";
import type { BenchServices, SystemSpec } from "./system";
import { weirwoodSpec } from "./weirwood-system";

/** Every system the bench knows, in the order it runs them. */
export const SYSTEMS: SystemSpec[] = [
  weirwoodSpec({ pops: 1, replicasPerPop: 1 }, "edge"),
  weirwoodSpec({ pops: 1, replicasPerPop: 1 }, "pop"),
  weirwoodSpec({ pops: 2, replicasPerPop: 2 }, "edge"),
  weirwoodSpec({ pops: 2, replicasPerPop: 2 }, "pop"),
  hocuspocusSpec(1),
  hocuspocusSpec(2),
];

/** The same single-node shapes set to persist every 10 s, for WAL per edit at an equal persist interval (run by default, not by the test). */
export const EQUAL_PERSIST_SYSTEMS: SystemSpec[] = [weirwoodSpec({ pops: 1, replicasPerPop: 1 }, "edge", 10_000), hocuspocusSpec(1, 10_000)];

/** Where each system is SIGKILLed by default: the single-node shapes, Weirwood at both levels that acknowledge before the origin. */
export const CRASH_SYSTEMS = ["weirwood-1x1-edge", "weirwood-1x1-pop", "hocuspocus-1"];

export interface BenchOptions {
  services: BenchServices;
  systems: SystemSpec[];
  loads: LoadPoint[];
  probes: number;
  workers: number;
  pin: boolean;
  /** Systems to crash at the first load point, `crashAfterMs` into it; empty for none. */
  crash: SystemSpec[];
  crashAfterMs: number;
  quick: boolean;
  command: string;
}

function versionOf(pkg: string): string {
  try {
    return (JSON.parse(readFileSync(new URL(`../../node_modules/${pkg}/package.json`, import.meta.url), "utf8")) as { version: string }).version;
  } catch {
    return "not installed";
  }
}

/** Runs every system at every load point, one at a time (WAL is cluster-wide), then the crash points. */
export async function runBench(options: BenchOptions): Promise<PeersReport> {
  const machine = machineInfo();
  const split = options.pin ? coreSplit(cpus().length) : undefined;
  let loadPinning: Pinning | undefined;
  if (split) {
    loadPinning = pin("load generator (this process, its client threads)", process.pid, split.load);
    options.services.log(`pinning: load generator on CPU ${split.load} (${loadPinning.tookEffect ? "applied" : `NOT applied: ${loadPinning.applied}`}), servers on CPU ${split.servers}`);
  }
  const pointOptions = {
    services: options.services,
    probes: options.probes,
    workers: options.workers,
    serverCores: split?.servers,
    storeTimeoutMs: 60_000,
  };
  const points: PointResult[] = [];
  const crashes: CrashResult[] = [];
  const failures: string[] = [];
  for (const load of options.loads) {
    for (const spec of options.systems) {
      try {
        const point = await runPoint(spec, load, pointOptions);
        if (loadPinning) point.pinning.unshift(loadPinning);
        points.push(point);
        if (point.missingFromStore > 0) failures.push(`${spec.label} at ${load.clients} clients: ${point.missingFromStore} of ${point.sent} markers missing from Postgres after quiescence`);
        const unpinned = point.pinning.filter((p) => !p.tookEffect);
        if (unpinned.length > 0) options.services.log(`pinning did not take effect for ${unpinned.map((p) => `${p.name} (${p.applied})`).join(", ")}`);
      } catch (error) {
        failures.push(`${spec.label} at ${load.clients} clients: ${(error as Error).message}`);
        options.services.log(`FAILED ${spec.label}: ${(error as Error).stack}`);
      }
    }
  }
  for (const spec of options.crash) {
    const load = options.loads[0]!;
    try {
      crashes.push(await runCrash(spec, load, options.crashAfterMs, pointOptions));
    } catch (error) {
      failures.push(`crash of ${spec.label}: ${(error as Error).message}`);
      options.services.log(`FAILED crash of ${spec.label}: ${(error as Error).stack}`);
    }
  }
  return {
    date: new Date().toISOString(),
    command: options.command,
    quick: options.quick,
    machine,
    versions: {
      weirwood: commitOf(),
      node: process.version,
      "@hocuspocus/server": versionOf("@hocuspocus/server"),
      "@hocuspocus/extension-database": versionOf("@hocuspocus/extension-database"),
      "@hocuspocus/extension-redis": versionOf("@hocuspocus/extension-redis"),
      "@hocuspocus/provider": versionOf("@hocuspocus/provider"),
      "y-websocket": versionOf("y-websocket"),
      yjs: versionOf("yjs"),
    },
    settings: {
      systems: options.systems.map((s) => ({ id: s.id, label: s.label, settings: s.settings })),
      probes: options.probes,
      workers: options.workers,
      pinning: split ? `servers on CPU ${split.servers}, load generator on CPU ${split.load} (taskset; shared Postgres, NATS and Redis not pinned)` : "none",
      crashKillAfterMs: options.crashAfterMs,
    },
    loads: options.loads,
    points,
    crashes,
    comparisons: compare(points),
    crashComparisons: crashSentences(crashes),
    failures,
  };
}
