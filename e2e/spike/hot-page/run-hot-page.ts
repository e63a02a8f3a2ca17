import { cpus, totalmem } from "node:os";
import type { RunningPops } from "../../load/bench-system";
import type { EdgeTarget } from "../../load/load-plan";
import { UsageSampler } from "../../load/process-usage";
import { coreSplit, pin, type Pinning } from "../../peers/pinning";
import type { Percentiles } from "../../load/stats";
import type { Deployment, ManagedDeployment, TargetDeployment } from "../deployment";
import { type CrowdResult, runCrowd } from "./crowd";

/**
 * The hot-page scenario: the whole crowd on one page. For each point of the
 * curve (editors with presence, plus read-only followers, spread over every
 * replica), a fresh page, a warm-up, a measured window, then the check that
 * every receiver got every acknowledged edit. Reports delivery and
 * awareness latency against crowd size, so that the crowd's cost shows as a
 * curve rather than one lucky point.
 */
export interface HotPageSettings {
  points: { editors: number; followers: number }[];
  seconds: number;
  warmupS: number;
  editsPerSecond: number;
  cursorMovesPerSecond: number;
  probes: number;
  pops: number;
  replicasPerPop: number;
  flushMs: number;
  workers: number;
  /**
   * "split": the edges pinned to the first half of the cores and this
   * process (the crowd's worker threads) to the rest, so that the crowd's
   * own queueing stays out of the edges' figures; "shared": not pinned.
   */
  placement: "shared" | "split";
  runTag: string;
}

export interface HotPagePoint {
  editors: number;
  followers: number;
  deliveryMs: Percentiles;
  awarenessMs: Percentiles;
  undelivered: number;
  bytesPerClientPerSec: number;
  messagesPerClientPerSec: number;
  edgeCpuPct: number;
  edgeRssMb: number;
  ackLatencyMs: Percentiles;
  connected: number;
  acked: number;
  receiversChecked: number;
  receiversMissing: number;
  undeliveredExamples: string[];
  /** Closes by the edge (code and reason), reconnects after them, receivers open at the check. */
  closes: Record<string, number>;
  reconnects: number;
  openAtCheck: number;
  connectFailures: Record<string, number>;
  updateMessagesPerClientPerSec: number;
  awarenessMessagesPerClientPerSec: number;
  probes: number;
  /** Per edge replica over the measured window: % of one core, RSS MiB at the end. */
  edges: { replica: string; cpuPercent: number; rssMiB: number }[];
  generator: CrowdResult["generator"];
  machineBusyPercent: number;
  /** Every sampled process over the measured window (edges, generator, origin, NATS, Postgres): where the machine's CPU went. */
  processes: { name: string; cpuPercent: number; rssMiB: number }[];
}

export interface HotPageReport {
  scenario: "hot-page";
  date: string;
  command: string;
  machine: { cores: number; model: string | undefined; memoryGiB: number };
  settings: HotPageSettings;
  targets: { editorsAt: number; editorsDeliveryP99Ms: number; followersAt: number; followersDeliveryP99Ms: number };
  points: HotPagePoint[];
  ok: boolean;
  failures: string[];
  deployment: { kind: "managed" | "target"; originUrl: string; opsUrl: string };
  /** Each pinned process's Cpus_allowed_list, read back from /proc after pinning (empty when shared). */
  pinned: Pinning[];
  wallS: number;
}

/** DESIGN.md, "Targets". */
export const HOT_PAGE_TARGETS = { editorsAt: 1000, editorsDeliveryP99Ms: 100, followersAt: 5000, followersDeliveryP99Ms: 50 };

export async function runHotPage(deployment: Deployment, settings: HotPageSettings, tokens: string[], log: (line: string) => void): Promise<HotPageReport> {
  const startedAt = Date.now();
  let pops: RunningPops | undefined;
  let targets: (EdgeTarget & { replica: string; pid?: number })[];
  const pinned: Pinning[] = [];
  if (settings.placement === "split" && deployment.kind !== "managed") throw new Error("spike: --placement split needs the harness's own deployment (no --target): it pins the edges it started");
  if (deployment.kind === "managed") {
    const names = Array.from({ length: settings.pops }, (_, i) => `hot-${settings.runTag}-${i + 1}`);
    log(`\n== hot page: ${settings.pops} PoPs x ${settings.replicasPerPop} replicas (${names.join(", ")}) at edge durability ==`);
    pops = await (deployment as ManagedDeployment).startPops({ pops: names, replicasPerPop: settings.replicasPerPop, durability: "edge", flushMs: settings.flushMs });
    targets = pops.edges.map((edge) => ({ pop: edge.pop, url: edge.url, replica: edge.replica, pid: edge.pid }));
    if (settings.placement === "split") pinned.push(...placeApart(targets, log));
  } else {
    targets = await (deployment as TargetDeployment).edges();
    log(`\n== hot page on ${targets.length} replicas from ${deployment.originUrl}/api/edges ==`);
  }
  const points: HotPagePoint[] = [];
  try {
    for (const [i, point] of settings.points.entries()) {
      const slug = `Hot_page_${settings.runTag}_${i + 1}`;
      log(`\n-- ${point.editors} editors + ${point.followers} followers on ${slug} --`);
      const sampler = new UsageSampler([
        ...targets.filter((edge) => edge.pid !== undefined).map((edge) => ({ name: edge.replica, pid: edge.pid })),
        { name: "crowd generator (this process)", pid: process.pid },
        ...(deployment.kind === "managed" ? [{ name: "origin (Next.js + API)", pid: (deployment as ManagedDeployment).originPid() }] : []),
        { name: "nats-server (shared)", comm: "nats-server" },
        { name: "postgres (all, shared)", comm: "postgres" },
      ]);
      const measuredFrom = Date.now() + 200 + settings.warmupS * 1000;
      let result: CrowdResult;
      try {
        result = await runCrowd({
          edges: targets,
          slug,
          tokens,
          editors: point.editors,
          followers: point.followers,
          probes: settings.probes,
          editsPerSecond: settings.editsPerSecond,
          cursorMovesPerSecond: settings.cursorMovesPerSecond,
          seconds: settings.seconds,
          warmupSeconds: settings.warmupS,
          workers: settings.workers,
          tag: `${settings.runTag}x`,
          onProgress: (p) =>
            log(`  ${p.atS < 0 ? `warm-up ${-p.atS}s` : `${p.atS}/${settings.seconds}s`}  edits ${p.sent}/s  acked ${p.acked}/s  delivered to probes ${p.delivered}/s  delivery p99 ${Math.round(p.deliveryP99)} ms`),
        });
      } finally {
        sampler.stop();
      }
      // The crowd connects before its measured window: measure the edges over the window only.
      const usage = sampler.report(measuredFrom, measuredFrom + settings.seconds * 1000);
      const edges = usage.processes.filter((p) => targets.some((edge) => edge.replica === p.name)).map((p) => ({ replica: p.name, cpuPercent: p.cpuPercent, rssMiB: p.rssMiB }));
      const measured: HotPagePoint = {
        editors: point.editors,
        followers: point.followers,
        deliveryMs: result.deliveryMs,
        awarenessMs: result.awarenessMs,
        undelivered: result.undelivered,
        bytesPerClientPerSec: result.bytesPerClientPerSec,
        messagesPerClientPerSec: result.messagesPerClientPerSec,
        edgeCpuPct: edges.reduce((sum, edge) => sum + edge.cpuPercent, 0),
        edgeRssMb: edges.reduce((sum, edge) => sum + edge.rssMiB, 0),
        ackLatencyMs: result.ackLatencyMs,
        connected: result.connected,
        acked: result.acked,
        receiversChecked: result.receiversChecked,
        receiversMissing: result.receiversMissing,
        undeliveredExamples: result.undeliveredExamples,
        closes: result.closes,
        reconnects: result.reconnects,
        openAtCheck: result.openAtCheck,
        connectFailures: result.connectFailures,
        updateMessagesPerClientPerSec: result.updateMessagesPerClientPerSec,
        awarenessMessagesPerClientPerSec: result.awarenessMessagesPerClientPerSec,
        probes: result.probes,
        edges,
        generator: result.generator,
        machineBusyPercent: usage.machineBusyPercent,
        processes: usage.processes.map((p) => ({ name: p.name, cpuPercent: p.cpuPercent, rssMiB: p.rssMiB })),
      };
      points.push(measured);
      const ms = (p: Percentiles) => `p50 ${Math.round(p.p50)} / p99 ${Math.round(p.p99)} / max ${Math.round(p.max)} ms`;
      log(
        `  delivery ${ms(result.deliveryMs)} (${result.deliveryMs.count} timed); awareness ${ms(result.awarenessMs)}; ` +
          `undelivered ${result.undelivered} (${result.receiversMissing} of ${result.receiversChecked} receivers lack something); ` +
          `closes ${closeText(result.closes)}, ${result.reconnects} reconnects, ${result.openAtCheck} open at the check; ` +
          `${result.messagesPerClientPerSec} msgs / ${Math.round(result.bytesPerClientPerSec)} bytes per client per s; edges ${measured.edgeCpuPct}% CPU, ${measured.edgeRssMb} MiB; ` +
          `generator ${result.generator.map((g) => `${g.cpuPercent}%`).join(" + ")}; ` +
          `others ${measured.processes.filter((p) => !edges.some((edge) => edge.replica === p.name) && !p.name.startsWith("crowd")).map((p) => `${p.name.split(" ")[0]} ${p.cpuPercent}%`).join(", ")}; machine ${usage.machineBusyPercent}% busy`,
      );
      for (const example of result.undeliveredExamples.slice(0, 3)) log(`    ${example}`);
    }
  } finally {
    await pops?.stop();
  }
  const failures: string[] = [];
  for (const point of points) {
    const label = `${point.editors} editors + ${point.followers} followers`;
    if (point.undelivered > 0) failures.push(`${label}: ${point.undelivered} acknowledged edits never reached ${point.receiversMissing} receivers`);
    if (point.connected < point.editors + point.followers) failures.push(`${label}: only ${point.connected} connected`);
  }
  return {
    scenario: "hot-page",
    date: new Date().toISOString(),
    command: `npm run spike -- ${process.argv.slice(2).join(" ")}`.trim(),
    machine: { cores: cpus().length, model: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30) },
    settings,
    targets: HOT_PAGE_TARGETS,
    points,
    ok: failures.length === 0,
    failures,
    deployment: { kind: deployment.kind, originUrl: deployment.originUrl, opsUrl: `${deployment.originUrl}/ops` },
    pinned,
    wallS: Math.round((Date.now() - startedAt) / 1000),
  };
}

function closeText(closes: Record<string, number>): string {
  const entries = Object.entries(closes);
  return entries.length === 0 ? "none" : entries.map(([reason, count]) => `${count} x ${reason}`).join(", ");
}

/**
 * Pins the edges to the first half of the cores and this process (whose
 * worker threads, started later, inherit it) to the rest; a pin the kernel
 * did not apply fails the run rather than being reported as applied.
 */
function placeApart(edges: { replica: string; pid?: number }[], log: (line: string) => void): Pinning[] {
  const split = coreSplit(cpus().length);
  if (!split) throw new Error("spike: --placement split needs at least 2 cores");
  const pinned = [pin("crowd generator (this process)", process.pid, split.load)];
  for (const edge of edges) if (edge.pid !== undefined) pinned.push(pin(edge.replica, edge.pid, split.servers));
  for (const p of pinned) log(`  ${p.name} (pid ${p.pid}): Cpus_allowed_list ${p.applied ?? "(gone)"}${p.tookEffect ? "" : ` (asked for ${p.requested}: NOT applied)`}`);
  const refused = pinned.filter((p) => !p.tookEffect);
  if (refused.length > 0) throw new Error(`spike: taskset did not pin ${refused.map((p) => p.name).join(", ")}`);
  return pinned;
}
