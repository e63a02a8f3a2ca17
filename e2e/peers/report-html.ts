import { selfContainedPage } from "../spike/report-html";
import { FIGURES, type PeersReport } from "./report";

/**
 * The peers report as one self-contained page: per figure, one bar chart
 * with the systems side by side (a bar per load point), then the
 * comparisons in words, the crash points and every process's figures.
 */
export function renderPeersHtml(report: PeersReport): string {
  const figures = FIGURES.map((f) => ({ key: f.key, title: f.title, unit: f.unit, values: report.points.map((p) => f.of(p)) }));
  return selfContainedPage({
    title: `Weirwood and Hocuspocus side by side, ${report.date.slice(0, 16).replace("T", " ")} UTC`,
    data: { ...report, figures },
    body: `<main>
  <section><h2>Crash: SIGKILL of the servers mid-load</h2><div id="crashes"></div></section>
  <section id="charts"><h2>Figures (lower is better)</h2></section>
  <section><h2>Which system was ahead, by what ratio</h2><div id="comparisons"></div></section>
  <section><h2>Every point</h2><div id="points"></div></section>
  <section><h2>Per process</h2><div id="processes"></div></section>
  <section><h2>Systems and settings</h2><div id="settings"></div></section>
</main>`,
    script: PAGE_SCRIPT,
  });
}

// Runs in the report's page: plain browser JavaScript, reading REPORT.
const PAGE_SCRIPT = `
const R = REPORT;
document.getElementById("verdict").textContent = R.failures.length === 0 ? "Every marker reached every system's database." : "FAILED: " + R.failures.join("; ");
document.getElementById("verdict").className = R.failures.length === 0 ? "ok" : "bad";
document.getElementById("meta").textContent = R.command + " on " + R.machine.cores + " cores (" + R.machine.model + "), load average " + R.machine.loadAverageAtStart.join(" ") + " at start. " + R.machine.note + " Pinning: " + R.settings.pinning + ". Weirwood " + R.versions.weirwood + ", Hocuspocus server " + R.versions["@hocuspocus/server"] + ", provider " + R.versions["@hocuspocus/provider"] + ", y-websocket " + R.versions["y-websocket"] + ", Node " + R.versions.node + ".";

{
  const label = Object.fromEntries(R.points.map((p) => [p.system, p.label]));
  const pairs = [...new Set(R.comparisons.map((c) => c.a.system + "|" + c.b.system))];
  const rows = [...new Set(R.comparisons.map((c) => c.figure + "|" + c.load))].map((key) => {
    const [figure, load] = key.split("|");
    const title = R.figures.find((f) => f.key === figure).title;
    return [title, load, ...pairs.map((pair) => {
      const c = R.comparisons.find((x) => x.figure === figure && x.load === load && x.a.system + "|" + x.b.system === pair);
      if (!c) return "-";
      if (c.ahead === "tie") return "tie";
      return { text: (c.ahead === c.a.system ? "Weirwood" : "Hocuspocus") + (Number.isFinite(c.ratio) ? " ×" + fmt(c.ratio, 2) : ""), cls: c.ahead === c.a.system ? "met" : "missed" };
    })];
  });
  document.getElementById("comparisons").append(table(["figure", "load", ...pairs.map((pair) => pair.split("|").map((id) => label[id]).join(" vs "))], rows));
  document.getElementById("comparisons").append(el("details", {}, el("summary", { textContent: "The same in sentences" }), el("ul", {}, ...R.comparisons.map((c) => el("li", { textContent: c.sentence })))));
}
document.getElementById("crashes").append(R.crashComparisons.length ? el("ul", {}, ...R.crashComparisons.map((s) => el("li", { textContent: s }))) : el("p", { textContent: "No crash point in this run." }));
if (R.crashes.length) {
  const box = el("div", { className: "chart" }, el("h3", { textContent: "markers sent > 1 s before the SIGKILL that never reached Postgres (markers)" }));
  document.getElementById("crashes").append(box);
  const xs = R.crashes.map((_, i) => i);
  new uPlot({
    width: width(), height: 220, legend: { live: false },
    scales: { x: { time: false, range: [-0.6, R.crashes.length - 0.4] }, y: { range: (u, min, max) => [0, max > 0 ? max * 1.1 : 1] } },
    axes: [
      { splits: () => xs, values: (u, splits) => splits.map((v) => (R.crashes[v] ? R.crashes[v].label : "")), stroke: getComputedStyle(document.body).color, size: 50, font: "11px system-ui" },
      { label: "markers", stroke: getComputedStyle(document.body).color, size: 70 },
    ],
    series: [{ label: "system" }, { label: "lost of those sent > 1 s before the kill", stroke: palette[1], fill: palette[1] + "99", width: 1, paths: uPlot.paths.bars({ size: [0.5, 80], align: 0 }), points: { show: false } }],
  }, [xs, R.crashes.map((c) => c.lostBeforeKill)], box);
}

const loadKey = (l) => l.clients + " clients @ " + l.ratePerSecond + "/s";
const systems = [...new Map(R.points.map((p) => [p.system, p.label])).entries()];
const loads = [...new Map(R.points.map((p) => [loadKey(p.load), p.load])).keys()];
for (const f of R.figures) {
  const box = el("div", { className: "chart" }, el("h3", { textContent: f.title + " (" + f.unit + ")" }));
  document.getElementById("charts").append(box);
  const xs = systems.map((_, i) => i);
  const series = loads.map((load) => systems.map(([id]) => {
    const i = R.points.findIndex((p) => p.system === id && loadKey(p.load) === load);
    const v = i < 0 ? null : f.values[i];
    return v === null || Number.isNaN(v) ? null : v;
  }));
  const n = loads.length;
  new uPlot({
    width: width(), height: 260, legend: { live: false },
    scales: { x: { time: false, range: [-0.6, systems.length - 0.4] }, y: { range: (u, min, max) => [0, max > 0 ? max * 1.1 : 1] } },
    axes: [
      { splits: () => xs, values: (u, splits) => splits.map((v) => (systems[v] ? systems[v][1] : "")), stroke: getComputedStyle(document.body).color, size: 50, font: "11px system-ui" },
      { label: f.unit, stroke: getComputedStyle(document.body).color, size: 70 },
    ],
    series: [{ label: "system" }, ...loads.map((load, i) => ({
      label: load, stroke: palette[i % palette.length], fill: palette[i % palette.length] + "99", width: 1,
      paths: uPlot.paths.bars({ size: [0.8 / n, 80], align: n === 1 ? 0 : (i < n / 2 ? -1 : 1) }), points: { show: false },
    }))],
  }, [xs, ...series], box);
}

document.getElementById("points").append(table(
  ["system", "load", "sent", "p50 ms", "p99 ms", "max ms", "delivered", "missing in Postgres", "all stored within the window", "server CPU s / 1k", "WAL kB / 1k", "write tx / 1k", "commits / 1k (reads too)", "tuples / 1k", "machine busy %"],
  R.points.map((p) => [p.label, loadKey(p.load), fmt(p.sent), fmt(p.delivery.latencyMs.p50, 1), fmt(p.delivery.latencyMs.p99, 1), fmt(p.delivery.latencyMs.max, 1),
    (p.delivery.ratio * 100).toFixed(2) + "%", { text: String(p.missingFromStore), cls: p.missingFromStore ? "missed" : "met" }, p.storedInWindow ? "yes" : "no (later)",
    fmt(p.serverCpuSecondsPer1000Edits, 3), fmt(p.postgres.walBytesPer1000Edits / 1000, 1), fmt(p.postgres.writeTransactionsPer1000Edits, 2), fmt(p.postgres.transactionsPer1000Edits, 2), fmt(p.postgres.tuplesPer1000Edits, 2), fmt(p.machineBusyPercent)])));

document.getElementById("processes").append(table(
  ["system", "load", "process", "CPU s", "CPU s / 1k edits", "max RSS MiB", "pinned to", "pinning took effect"],
  R.points.flatMap((p) => p.processes.map((q) => {
    const pinned = p.pinning.find((x) => x.name === q.name);
    return [p.label, loadKey(p.load), q.name, fmt(q.cpuSeconds, 2), fmt(q.cpuSecondsPer1000Edits, 3), fmt(q.maxRssMiB), pinned ? pinned.applied : "-", pinned ? (pinned.tookEffect ? "yes" : "no") : "-"];
  }))));

document.getElementById("settings").append(table(["system", "settings"], R.settings.systems.map((s) => [s.label, s.settings])));
`;
