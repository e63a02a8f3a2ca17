import { readdirSync, readFileSync } from "node:fs";

/**
 * CPU and memory of processes, read from Linux's /proc while a load runs:
 * the edge replicas by pid, and by name the shared servers (NATS, Postgres)
 * whose load the system's figures include. Read-only; nothing is signalled.
 */

const TICKS_PER_SECOND = 100; // USER_HZ, 100 on every Linux the project runs on

export interface UsageTarget {
  name: string;
  /** A pid, a command name (comm), or a piece of the command line, whose processes are summed. */
  pid?: number;
  comm?: string;
  cmdline?: string;
}

interface Snapshot {
  at: number;
  /** CPU seconds (user + system) by pid, and RSS bytes, per target. */
  cpu: Map<number, number>[];
  rss: number[];
  /** Whole machine: jiffies from /proc/stat. */
  machine: MachineJiffies;
}

export interface Usage {
  name: string;
  /** False when the process had exited by the end of the window (its CPU then counts only while it lived). */
  alive: boolean;
  /** Percent of one core over the window (200 = both cores of a 2-core machine). */
  cpuPercent: number;
  /** CPU seconds (user + system) over the window, unrounded: for costs per unit of work. */
  cpuSeconds: number;
  rssMiB: number;
  maxRssMiB: number;
}

export interface UsageReport {
  from: number;
  to: number;
  processes: Usage[];
  /** Busy share of all cores of the machine over the window, whoever used them. */
  machineBusyPercent: number;
  /**
   * Where the machine's time went, in percent of one core: softirq is mostly
   * the loopback network stack (not counted in any process's CPU), steal is
   * what the hypervisor gave to other machines.
   */
  machine: { user: number; system: number; softirq: number; steal: number; idle: number };
}

function readProc(pid: number): { cpu: number; rss: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const cpu = (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const rssKiB = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0);
    return { cpu, rss: rssKiB * 1024 };
  } catch {
    return undefined; // gone meanwhile
  }
}

function pidsOf(target: UsageTarget): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const found =
        target.cmdline !== undefined
          ? readFileSync(`/proc/${entry}/cmdline`, "utf8").includes(target.cmdline)
          : readFileSync(`/proc/${entry}/comm`, "utf8").trim() === target.comm;
      if (found) pids.push(Number(entry));
    } catch {
      // exited while listing
    }
  }
  return pids;
}

interface MachineJiffies {
  busy: number;
  total: number;
  user: number;
  system: number;
  softirq: number;
  steal: number;
  idle: number;
}

function machineJiffies(): MachineJiffies {
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0]!;
  // cpu user nice system idle iowait irq softirq steal guest guest_nice (proc(5))
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = line.trim().split(/\s+/).slice(1).map(Number);
  const total = user + nice + system + idle + iowait + irq + softirq + steal;
  return { busy: total - idle - iowait, total, user: user + nice, system, softirq: softirq + irq, steal, idle: idle + iowait };
}

/** Samples the targets every `intervalMs` until stopped; reports any window inside the sampled span. */
export class UsageSampler {
  private readonly snapshots: Snapshot[] = [];
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly targets: UsageTarget[],
    intervalMs = 500,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.sample();
  }

  private sample(): void {
    const cpu: Map<number, number>[] = [];
    const rss: number[] = [];
    for (const target of this.targets) {
      const pids = target.pid !== undefined ? [target.pid] : pidsOf(target);
      const byPid = new Map<number, number>();
      let r = 0;
      for (const pid of pids) {
        const usage = readProc(pid);
        if (!usage) continue;
        byPid.set(pid, usage.cpu);
        r += usage.rss;
      }
      cpu.push(byPid);
      rss.push(r);
    }
    this.snapshots.push({ at: Date.now(), cpu, rss, machine: machineJiffies() });
  }

  readonly names = (): string[] => this.targets.map((target) => target.name);

  /** CPU and memory of each target over time, one point per `stepMs` (for the spike report's charts). */
  series(from: number, to: number, stepMs = 1000): UsagePoint[] {
    const within = this.snapshots.filter((s) => s.at >= from - stepMs && s.at <= to + stepMs);
    const points: UsagePoint[] = [];
    let previous = within[0];
    for (const snapshot of within) {
      if (!previous || snapshot.at - previous.at < stepMs) continue;
      const seconds = (snapshot.at - previous.at) / 1000;
      const pair = [previous, snapshot];
      points.push({
        at: snapshot.at,
        cpuPercent: this.targets.map((_, i) => Math.round((cpuBetween(pair.map((s) => s.cpu[i]!)) / seconds) * 100)),
        rssMiB: snapshot.rss.map((bytes) => Math.round(bytes / (1024 * 1024))),
      });
      previous = snapshot;
    }
    return points;
  }

  /** Usage between the snapshots nearest to `from` and `to` (epoch ms). */
  report(from: number, to: number): UsageReport {
    const nearest = (t: number) => this.snapshots.reduce((best, s) => (Math.abs(s.at - t) < Math.abs(best.at - t) ? s : best));
    const a = nearest(from);
    const b = nearest(to);
    const seconds = Math.max(0.001, (b.at - a.at) / 1000);
    const during = this.snapshots.filter((s) => s.at >= a.at && s.at <= b.at);
    const mib = (bytes: number) => Math.round(bytes / (1024 * 1024));
    return {
      from: a.at,
      to: b.at,
      processes: this.targets.map((target, i) => ({
        name: target.name,
        alive: target.pid === undefined || b.cpu[i]!.has(target.pid),
        cpuPercent: Math.round((cpuBetween(during.map((snapshot) => snapshot.cpu[i]!)) / seconds) * 100),
        cpuSeconds: cpuBetween(during.map((snapshot) => snapshot.cpu[i]!)),
        rssMiB: mib(b.rss[i]!),
        maxRssMiB: mib(Math.max(...during.map((s) => s.rss[i]!))),
      })),
      machineBusyPercent: Math.round(((b.machine.busy - a.machine.busy) / Math.max(1, b.machine.total - a.machine.total)) * 100),
      machine: {
        user: coreShare(a.machine, b.machine, "user", seconds),
        system: coreShare(a.machine, b.machine, "system", seconds),
        softirq: coreShare(a.machine, b.machine, "softirq", seconds),
        steal: coreShare(a.machine, b.machine, "steal", seconds),
        idle: coreShare(a.machine, b.machine, "idle", seconds),
      },
    };
  }
}

export interface UsagePoint {
  /** Epoch ms at the end of the step. */
  at: number;
  /** Per target, in the targets' order: percent of one core over the step, and RSS in MiB at its end. */
  cpuPercent: number[];
  rssMiB: number[];
}

function coreShare(a: MachineJiffies, b: MachineJiffies, field: keyof MachineJiffies, seconds: number): number {
  return Math.round(((b[field] - a[field]) / TICKS_PER_SECOND / seconds) * 100);
}

/**
 * CPU seconds used over a series of snapshots of a set of processes that may
 * change (Postgres backends come and go): each process counts from its first
 * to its last snapshot in the series, and in full if it was born meanwhile.
 */
function cpuBetween(series: Map<number, number>[]): number {
  const first = new Map<number, number>();
  const last = new Map<number, number>();
  series.forEach((snapshot, index) => {
    for (const [pid, cpu] of snapshot) {
      if (!first.has(pid)) first.set(pid, index === 0 ? cpu : 0);
      last.set(pid, cpu);
    }
  });
  let total = 0;
  for (const [pid, cpu] of last) total += cpu - (first.get(pid) ?? 0);
  return total;
}
