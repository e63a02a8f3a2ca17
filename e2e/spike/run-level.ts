import type { DurabilityLevel } from "../../protocol/messages";
import type { RunningPops } from "../load/bench-system";
import { checkLateAcks } from "../load/late-acks";
import { LoadGenerator, type LoadResult } from "../load/load-generator";
import type { EdgeTarget } from "../load/load-plan";
import { UsageSampler } from "../load/process-usage";
import { compareBrowsers } from "./browser-check";
import { BrowserEditors } from "./browser-editors";
import { awaitConvergence, type ReplicaRef } from "./convergence";
import { type Deployment, type ManagedDeployment, SPIKE_PASSWORD, type TargetDeployment } from "./deployment";
import { MidSpikeEvents } from "./mid-spike";
import { progressLine } from "./progress";
import type { LevelReport, SpikeSettings } from "./level-report";
import { spikeShape } from "./scenarios";

const round = (value: number, digits = 1) => (Number.isFinite(value) ? Math.round(value * 10 ** digits) / 10 ** digits : value);

/** The hot pages a level writes: its own, so that levels of one run do not share text. */
export function hotPageSlugs(settings: SpikeSettings, level: DurabilityLevel): string[] {
  return Array.from({ length: settings.pages }, (_, i) => `Spike_${settings.runTag}_${level}_${i + 1}`);
}

export async function runLevel(
  deployment: Deployment,
  settings: SpikeSettings,
  level: DurabilityLevel,
  accounts: { name: string; token: string }[],
  log: (line: string) => void,
  /** Called when the load is about to start, with the epoch ms at which its measured part begins (readers during a level). */
  onLoadBegins?: (measureFrom: number) => void,
): Promise<LevelReport> {
  const levelStart = Date.now();
  const tag = `${settings.runTag}${level[0]}`;
  const slugs = hotPageSlugs(settings, level);
  let pops: RunningPops | undefined;
  let targets: (EdgeTarget & { replica: string })[];
  let popNames: string[];
  let topology = "as deployed (--target)";
  if (deployment.kind === "managed") {
    popNames = Array.from({ length: settings.pops }, (_, i) => `${level}-${settings.runTag}-${i + 1}`);
    log(`\n== ${level}: ${settings.pops} PoPs x ${settings.replicasPerPop} replicas (${popNames.join(", ")}), flush every ${settings.flushMs} ms ==`);
    pops = await (deployment as ManagedDeployment).startPops({ pops: popNames, replicasPerPop: settings.replicasPerPop, durability: level, flushMs: settings.flushMs });
    targets = pops.edges.map((edge) => ({ pop: edge.pop, url: edge.url, replica: edge.replica }));
    const managed = deployment as ManagedDeployment;
    topology = `${settings.pops} PoPs x ${settings.replicasPerPop} replicas; NATS: ${managed.nats.describe()}; Postgres: ${managed.postgres === "private" ? "a private cluster of the run's own" : "the shared server"}; ` +
      `${managed.originUrls.length} origin process(es)${managed.originUrls.length > 1 ? `, ${popNames.map((pop, i) => `${pop} flushing to origin ${(i % managed.originUrls.length) + 1}`).join(", ")}` : ""}`;
    log(`  on ${topology}`);
  } else {
    targets = await (deployment as TargetDeployment).edges();
    popNames = [...new Set(targets.map((edge) => edge.pop))];
    log(`\n== ${level} (as deployed): ${targets.length} replicas of ${popNames.join(", ")} from ${deployment.originUrl}/api/edges ==`);
    if (targets.length === 0) throw new Error(`spike: ${deployment.originUrl}/api/edges lists no live edge`);
  }
  const replicas: ReplicaRef[] = targets.map(({ replica, url }) => ({ replica, url }));
  const shape = spikeShape(settings.scenario, { peakRate: settings.peakRate, baseRate: settings.baseRate, durationS: settings.durationS, warmupS: settings.warmupS });

  // A deployment whose database the harness reads (its own) counts batches there; a target, from its /metrics.
  const batchesBefore = deployment.kind === "target" ? await deployment.mergedBatches() : undefined;
  let events: MidSpikeEvents | undefined;
  let browsers: BrowserEditors | undefined;
  let sampler: UsageSampler | undefined;
  let load: LoadGenerator | undefined;
  try {
    const browserAccounts = accounts.slice(0, settings.browsers).map((account) => ({ name: account.name, password: SPIKE_PASSWORD }));
    if (settings.browsers > 0) {
      browsers = await BrowserEditors.open({
        originUrl: deployment.originUrl,
        pages: slugs,
        pops: popNames,
        count: settings.browsers,
        accounts: browserAccounts,
        markerTag: tag,
        editIntervalMs: settings.browserEditMs,
      });
      for (const report of browsers.reports()) log(`  browser ${report.index}: ${report.slug} "${report.connectedTo}" (editor open in ${report.openMs} ms)`);
    }
    sampler = new UsageSampler([
      ...(pops?.edges.map((edge) => ({ name: edge.replica, pid: edge.pid })) ?? []),
      ...(deployment.kind === "managed" ? [{ name: "origin (Next.js + API)", pid: (deployment as ManagedDeployment).originPid() }] : []),
      { name: "load generator (this process)", pid: process.pid },
      browsers?.processMatch ? { name: "chromium (this run's)", cmdline: browsers.processMatch } : { name: "chromium (all on the machine)", comm: "chromium" },
      { name: "nats-server (shared)", comm: "nats-server" },
      { name: "postgres (all, shared)", comm: "postgres" },
    ]);
    load = await LoadGenerator.connect({
      edges: targets,
      // The browsers' accounts type in the browsers only, so that a per-account rate limit sees what it would in production.
      tokens: accounts.slice(settings.browsers).map((account) => account.token),
      pages: slugs,
      zipfExponent: settings.zipf,
      editors: settings.editors,
      mode: "open",
      rate: shape.rate,
      maxInFlight: 4,
      warmupSeconds: settings.warmupS,
      seconds: settings.durationS,
      workers: settings.workers,
      markerTag: tag,
      seed: 7,
      onProgress: (progress) => log(progressLine(level, progress, settings.durationS, browsers)),
    });
    log(`  ${load.connected} of ${settings.editors} protocol editors connected${Object.keys(load.connectFailures).length ? `; failures ${JSON.stringify(load.connectFailures)}` : ""}`);

    events =
      deployment.kind === "managed" && pops
        ? new MidSpikeEvents({
            deployment: deployment as ManagedDeployment,
            pops,
            level,
            settings,
            hottest: slugs[0]!,
            token: accounts[0]!.token,
            replicas,
            measureFrom: Date.now() + 250 + settings.warmupS * 1000,
            shape,
            log,
          })
        : undefined;

    browsers?.startTyping();
    onLoadBegins?.(Date.now() + 250 + settings.warmupS * 1000);
    let result: LoadResult;
    try {
      result = await load.run();
    } finally {
      await browsers?.stopTyping();
    }
    const loadEndedAt = Date.now();
    await events?.done();
    sampler.stop();
    const usage = sampler;

    const browserMarkers = browsers?.markers() ?? { acked: new Map<string, string[]>(), unacked: new Map<string, string[]>() };
    const acked = mergeMarkers(result.markers.acked, browserMarkers.acked);
    const unacked = mergeMarkers(result.markers.unacked, browserMarkers.unacked);
    const browserAcked = [...browserMarkers.acked.values()].reduce((sum, list) => sum + list.length, 0);
    log(`  load done: ${result.total.acked} protocol edits and ${browserAcked} browser edits acknowledged; waiting for convergence`);
    const verification = await awaitConvergence({
      slugs,
      replicas,
      token: accounts[0]!.token,
      originTexts: (list) => deployment.originTexts(list),
      acked,
      unacked,
      since: loadEndedAt,
      timeoutMs: 30_000 + 4 * settings.flushMs + (settings.stopOriginS + settings.partitionPopS + settings.restartNatsS + settings.restartPostgresS) * 1000,
    });
    const { texts: originTexts, ...verificationReport } = verification;
    const { browserEditors, browsersConverged } = await compareBrowsers(browsers, originTexts);
    log(
      `  ${verification.converged ? "converged" : "NOT CONVERGED"} ${verification.convergenceMs ?? "-"} ms after the load: ` +
        `origin lost ${verification.origin.lost}, duplicated ${verification.origin.duplicated} of ${verification.origin.acked}; ` +
        `${replicas.length} replicas ${verification.replicas.every((r) => r.differingPages.length === 0 && r.lost === 0) ? "identical to the origin" : "DIFFER"}` +
        (browsers ? `; ${browserEditors.filter((b) => b.textMatchesOrigin).length} of ${browserEditors.length} browsers show the converged text` : ""),
    );
    for (const replica of verification.replicas) {
      if (replica.error || replica.differingPages.length || replica.lost) log(`    ${replica.replica}: lost ${replica.lost}, differs on ${replica.differingPages.join(", ") || "-"} ${replica.error ?? ""}`);
    }

    // Acks that came after the drain ended are not in the run's figures, but
    // they are acks: close the editors (no more can come) and check those at
    // the origin too, waiting for them as for the others.
    const late = await checkLateAcks(await load.close(), (list) => deployment.originTexts(list), 30_000 + 4 * settings.flushMs);
    if (late.count > 0) log(`  ${late.count} acks arrived after the drain: ${late.lost} of them lost, ${late.duplicated} duplicated at the origin`);

    const batches = await deployment.batches(popNames, levelStart);
    const totalAcked = result.total.acked + browserAcked;
    // Counted from the database when the harness can read it, else from the origin's /metrics.
    const batchesAfter = batches ? undefined : await deployment.mergedBatches();
    const transactions = batches?.length ?? (batchesBefore !== undefined && batchesAfter !== undefined ? batchesAfter - batchesBefore : null);
    const timeline = result.timeline.map((second) => {
      const inSecond = batches?.filter((batch) => Math.floor((batch.at - result.window.measureFrom) / 1000) === second.atS) ?? [];
      return {
        atS: second.atS,
        offered: second.offered,
        acked: second.acked,
        p50Ms: second.p50Ms,
        p99Ms: second.p99Ms,
        maxMs: second.maxMs,
        originTx: inSecond.length,
        originEdits: inSecond.reduce((sum, batch) => sum + batch.edits, 0),
      };
    });
    const usagePoints = usage.series(result.window.startAt, loadEndedAt).map((point) => ({
      atS: round((point.at - result.window.measureFrom) / 1000),
      cpuPercent: point.cpuPercent,
      rssMiB: point.rssMiB,
    }));
    const crashes = pops?.crashes() ?? [];
    const killed = new Set((events?.faults ?? []).filter((fault) => fault.what === "replica killed").map((fault) => fault.detail.split(" ")[0]));
    return {
      scenario: settings.scenario,
      durability: level,
      editors: settings.editors,
      browsers: settings.browsers,
      durationS: settings.durationS,
      acked: totalAcked,
      lost: verification.origin.lost + sum(verification.replicas, (replica) => Math.max(0, replica.lost)) + late.lost,
      duplicated: verification.origin.duplicated + sum(verification.replicas, (replica) => Math.max(0, replica.duplicated)) + late.duplicated,
      lateAcks: late,
      converged: verification.converged,
      convergenceMs: verification.convergenceMs,
      ackLatencyMs: result.ackLatencyMs,
      ackedPerSec: result.ackedPerSec,
      originTransactions: transactions,
      batchingFactor: transactions ? round(totalAcked / transactions, totalAcked / transactions >= 10 ? 0 : 2) : null,
      pops: popNames,
      replicas: [...(pops?.edges.map((edge) => edge.replica) ?? targets.map((target) => target.replica)), ...(events?.added ? [events.added.replica] : [])],
      pages: result.perPage.map((page) => ({ slug: page.slug, editors: page.editors, acked: page.acked })),
      offeredPerSec: result.offeredPerSec,
      peakAckedPerSec: Math.max(0, ...result.timeline.filter((second) => second.atS >= 0 && second.atS < settings.durationS).map((second) => second.acked)),
      connected: load.connected,
      connectFailures: load.connectFailures,
      acksByDurability: result.acksByDurability,
      unacknowledged: result.total.sent - result.total.acked,
      browserEditors,
      browsersConverged,
      verification: verificationReport,
      timeline,
      transactionsPerFlusherPerInterval: batches ? perFlusherPerInterval(batches, settings.flushMs) : null,
      usage: { summary: usage.report(result.window.measureFrom, result.window.measureTo), names: usage.names(), points: usagePoints },
      faults: events?.faults ?? [],
      topology,
      bootstrap: events?.bootstrap ?? null,
      crashes: crashes.filter((crash) => !killed.has(crash.replica)),
      problems: (pops?.problems() ?? []).slice(0, 30),
      receivedPerEditorPerSec: round(result.received.updates / Math.max(1, load.connected) / ((loadEndedAt - result.window.startAt) / 1000), 1),
    };
  } finally {
    sampler?.stop();
    await load?.close();
    await browsers?.close().catch(() => {});
    await events?.close();
    if (pops) await pops.stop();
  }
}

function mergeMarkers(a: Map<string, string[]>, b: Map<string, string[]>): Map<string, string[]> {
  const merged = new Map(a);
  for (const [slug, markers] of b) merged.set(slug, [...(merged.get(slug) ?? []), ...markers]);
  return merged;
}

function sum<T>(items: readonly T[], value: (item: T) => number): number {
  return items.reduce((total, item) => total + value(item), 0);
}

function perFlusherPerInterval(batches: { edge: string; at: number }[], flushMs: number): number {
  const byEdge = new Map<string, number[]>();
  for (const batch of batches) byEdge.set(batch.edge, [...(byEdge.get(batch.edge) ?? []), batch.at]);
  let busiest = 0;
  for (const times of byEdge.values()) busiest = Math.max(busiest, times.length / ((times.at(-1)! - times[0]!) / flushMs + 1));
  return round(busiest, 2);
}
