import { selfContainedPage } from "../report-html";
import type { HotPageReport } from "./run-hot-page";

/** The hot-page report as one self-contained page: delivery and awareness latency against crowd size, and what the crowd cost. */
export function renderHotPageHtml(report: HotPageReport): string {
  return selfContainedPage({
    title: `Weirwood hot page: ${report.date.slice(0, 16).replace("T", " ")} UTC`,
    data: report,
    body: `<main>
  <div id="headline">
    <section><h2>Points</h2><div id="summary"></div></section>
    <section id="charts"><h2>Against crowd size</h2></section>
  </div>
</main>`,
    script: HOT_PAGE_SCRIPT,
  });
}

const HOT_PAGE_SCRIPT = `
const R = REPORT;
const T = R.targets;
document.getElementById("verdict").textContent = R.ok ? "Every receiver got every acknowledged edit at every point." : "FAILED: " + R.failures.join("; ");
document.getElementById("verdict").className = R.ok ? "ok" : "bad";
document.getElementById("meta").textContent = "One page; editors type " + R.settings.editsPerSecond + " edit/s and move their cursor " + R.settings.cursorMovesPerSecond + "/s; followers read. " + R.settings.pops + " PoPs x " + R.settings.replicasPerPop + " replicas; " + R.settings.seconds + " s measured per point; delivery timed at " + R.settings.probes + " probe receivers per point, completeness checked exactly at every receiver that ever synced, open or closed (a receiver the edge closes reconnects and resyncs, as a real client does). " + R.machine.cores + " cores. " + R.command;
const target = (p) => p.followers === 0 && p.editors >= T.editorsAt ? T.editorsDeliveryP99Ms : p.followers >= T.followersAt ? T.followersDeliveryP99Ms : null;
document.getElementById("summary").append(table(
  ["editors", "followers", "delivery p50", "p99", "max ms", "awareness p50", "p99", "max ms", "undelivered", "closes by the edge", "reconnects", "msgs/client/s", "bytes/client/s", "edge CPU % core", "edge RSS MiB", "ack p99 ms"],
  R.points.map((p) => {
    const t = target(p);
    return [fmt(p.editors), fmt(p.followers), fmt(p.deliveryMs.p50), t ? { text: fmt(p.deliveryMs.p99) + " (≤ " + t + ")", cls: p.deliveryMs.p99 <= t ? "met" : "missed" } : fmt(p.deliveryMs.p99), fmt(p.deliveryMs.max),
      fmt(p.awarenessMs.p50), fmt(p.awarenessMs.p99), fmt(p.awarenessMs.max), { text: fmt(p.undelivered), cls: p.undelivered ? "missed" : "met" },
      closesText(p.closes), p.reconnects === undefined ? "-" : fmt(p.reconnects),
      fmt(p.messagesPerClientPerSec, 1), fmt(p.bytesPerClientPerSec), fmt(p.edgeCpuPct), fmt(p.edgeRssMb), fmt(p.ackLatencyMs.p99)];
  }),
));
// Reports from before the exact check (2026-12-03) have no reconnects; their closes were never checked.
function closesText(closes) {
  const entries = Object.entries(closes ?? {});
  return entries.length === 0 ? "0" : entries.map(([reason, count]) => fmt(count) + " x " + reason).join(", ");
}
function curve(title, points, x, xLabel) {
  if (points.length === 0) return;
  const sorted = [...points].sort((a, b) => x(a) - x(b));
  const xs = sorted.map(x);
  chart(title + ": delivery and awareness latency (log scale)", xs, [
    { label: "delivery p50", values: sorted.map((p) => p.deliveryMs.p50), color: "#2563eb" },
    { label: "delivery p99", values: sorted.map((p) => p.deliveryMs.p99), color: "#2563eb", dash: [6, 3] },
    { label: "delivery max", values: sorted.map((p) => p.deliveryMs.max), color: "#2563eb", dash: [1, 3] },
    { label: "awareness p50", values: sorted.map((p) => p.awarenessMs.p50), color: "#16a34a" },
    { label: "awareness p99", values: sorted.map((p) => p.awarenessMs.p99), color: "#16a34a", dash: [6, 3] },
  ], { unit: "ms", log: true, xLabel });
  // The generator shares the machine: its CPU beside the edges' says how much of the latency is the readers' own queueing.
  chart(title + ": what the crowd cost", xs, [
    { label: "edge CPU (% of one core, all replicas)", values: sorted.map((p) => p.edgeCpuPct), color: "#dc2626" },
    { label: "crowd generator CPU (same machine)", values: sorted.map((p) => (p.processes ?? []).find((q) => q.name.startsWith("crowd"))?.cpuPercent ?? null), color: "#6b7280", dash: [6, 3] },
    { label: "machine busy %", values: sorted.map((p) => p.machineBusyPercent), color: "#111827", dash: [1, 3] },
    { label: "messages per client per s", values: sorted.map((p) => p.messagesPerClientPerSec), color: "#9333ea" },
    { label: "KB per client per s", values: sorted.map((p) => p.bytesPerClientPerSec / 1000), color: "#ea580c" },
  ], { unit: "", xLabel });
}
curve("Editors with presence", R.points.filter((p) => p.followers === 0), (p) => p.editors, "editors on the page (no followers)");
curve("Followers", R.points.filter((p) => p.followers > 0), (p) => p.followers, "read-only followers (plus the editors of the table)");
`;
