import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";

/**
 * Keeps the load generator and the servers under test off each other's
 * cores with `taskset`, and reads back what the kernel applied: a request
 * that did not take effect is reported, never assumed.
 */
export interface Pinning {
  name: string;
  pid: number;
  requested: string;
  /** Cpus_allowed_list from /proc/<pid>/status after the request; undefined when the process was gone. */
  applied: string | undefined;
  tookEffect: boolean;
}

export function cpusAllowed(pid: number): string | undefined {
  try {
    return /^Cpus_allowed_list:\s*(\S+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
  } catch {
    return undefined;
  }
}

/** Pins every thread of `pid` (`taskset -a`) to `cpus` (e.g. "0" or "1"). */
export function pin(name: string, pid: number, cpus: string): Pinning {
  const result = spawnSync("taskset", ["-a", "-pc", cpus, String(pid)], { encoding: "utf8" });
  const applied = cpusAllowed(pid);
  if (result.error) return { name, pid, requested: cpus, applied, tookEffect: false };
  return { name, pid, requested: cpus, applied, tookEffect: applied === cpus };
}

/** The split the bench uses on a machine of `cores` cores: servers on the first half, the load generator on the rest; none on one core. */
export function coreSplit(cores: number): { servers: string; load: string } | undefined {
  if (cores < 2) return undefined;
  const half = Math.floor(cores / 2);
  const range = (from: number, to: number) => (from === to ? String(from) : `${from}-${to}`);
  return { servers: range(0, half - 1), load: range(half, cores - 1) };
}
