import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import type { SpikeReport } from "./report";

/**
 * The spike's report as one self-contained HTML page: uPlot's script and
 * stylesheet and the JSON report are inlined, so the file opens from disk,
 * in CI artifacts or in a repository viewer, with no network.
 */
export function renderHtml(report: SpikeReport): string {
  const title = `Weirwood spike: ${report.scenario}, ${report.date.slice(0, 16).replace("T", " ")} UTC`;
  return selfContainedPage({
    title,
    data: report,
    body: `<main>
  <div id="headline">
    <section><h2>Summary</h2><div id="summary"></div></section>
    <section id="readers-section" hidden><h2>Readers: anonymous page views through the nginx cache and without it</h2><p class="meta" id="readers-meta"></p><div id="readers"></div></section>
    <section id="charts"><h2>Over time</h2></section>
  </div>
  <section id="usage"><h2>CPU and memory</h2></section>
  <section><h2>Faults, bootstrap and browsers</h2><div id="events"></div></section>
  <section><h2>Processes</h2><div id="processes"></div></section>
</main>`,
    script: PAGE_SCRIPT,
  });
}

/**
 * A page with uPlot, the shared helpers (fmt, el, table, chart) and `data`
 * as REPORT inlined; `script` draws it.
 */
export function selfContainedPage(options: { title: string; data: unknown; body: string; script: string }): string {
  const require = createRequire(import.meta.url);
  const uplotDir = path.dirname(require.resolve("uplot/package.json"));
  const uplot = readFileSync(path.join(uplotDir, "dist/uPlot.iife.min.js"), "utf8");
  const style = readFileSync(path.join(uplotDir, "dist/uPlot.min.css"), "utf8");
  // JSON inside <script>: no "</script>" or "<!--" can end it early.
  const data = JSON.stringify(options.data).replace(/</g, "\\u003c");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(options.title)}</title>
<style>${style}</style>
<style>${PAGE_STYLE}</style>
</head>
<body>
<header>
  <h1>${escapeHtml(options.title)}</h1>
  <p id="verdict"></p>
  <p class="meta" id="meta"></p>
</header>
${options.body}
<script>${uplot}</script>
<script>const REPORT = ${data};</script>
<script>${HELPERS}</script>
<script>${options.script}</script>
</body>
</html>
`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

const PAGE_STYLE = `
:root { color-scheme: light dark; --fg: #1d2330; --muted: #5d6675; --bg: #fff; --line: #d9dee7; --ok: #1a7f37; --bad: #c62828; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6e9ef; --muted: #9aa3b2; --bg: #14171d; --line: #2c323d; --ok: #4cc26b; --bad: #ff6b6b; } }
#headline { background: var(--bg); padding: 4px 0; }
body { font: 14px/1.45 system-ui, sans-serif; color: var(--fg); background: var(--bg); margin: 0 auto; max-width: 1200px; padding: 16px 20px 40px; }
h1 { font-size: 22px; margin: 8px 0; } h2 { font-size: 17px; margin: 28px 0 10px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
.meta { color: var(--muted); }
#verdict.ok { color: var(--ok); font-weight: 600; } #verdict.bad { color: var(--bad); font-weight: 600; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { text-align: right; padding: 4px 8px; border-bottom: 1px solid var(--line); white-space: nowrap; }
th { white-space: normal; vertical-align: bottom; }
th:first-child, td:first-child { text-align: left; }
td.met { color: var(--ok); } td.missed { color: var(--bad); }
.chart { margin: 8px 0 22px; } .chart h3 { font-size: 14px; margin: 0 0 4px; }
.table-wrap { overflow-x: auto; }
.uplot { font-family: inherit; } .u-legend { font-size: 12px; }
`;

// Shared by the reports' pages: formatting, elements, tables and charts (plain browser JavaScript).
const HELPERS = `
const fmt = (v, d) => v === null || v === undefined || Number.isNaN(v) ? "-" : typeof v === "number" ? (Math.abs(v) < 10 && !Number.isInteger(v) ? v.toFixed(d ?? 2) : Math.round(v).toLocaleString("en-US")) : String(v);
const el = (tag, attrs, ...children) => { const e = document.createElement(tag); Object.assign(e, attrs || {}); for (const c of children) e.append(c); return e; };
function table(headers, rows) {
  const t = el("table"); const head = el("tr"); for (const h of headers) head.append(el("th", { textContent: h })); t.append(head);
  for (const row of rows) { const tr = el("tr"); for (const cell of row) { const td = el("td"); if (cell && typeof cell === "object") { td.textContent = cell.text; td.className = cell.cls || ""; } else td.textContent = cell; tr.append(td); } t.append(tr); }
  return el("div", { className: "table-wrap" }, t);
}
const palette = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#ca8a04", "#db2777", "#4b5563", "#65a30d"];
const width = () => Math.min(1160, document.body.clientWidth - 40);
function chart(title, xs, series, opts) {
  const box = el("div", { className: "chart" }, el("h3", { textContent: title }));
  document.getElementById((opts && opts.into) || "charts").append(box);
  const clean = (v) => (v === null || v === undefined || Number.isNaN(v) || (opts && opts.log && v <= 0) ? null : v);
  new uPlot({
    width: width(), height: 230, legend: { live: false },
    scales: { x: { time: false }, y: opts && opts.log ? { distr: 3 } : {} },
    axes: [{ label: (opts && opts.xLabel) || "seconds into the spike", stroke: getComputedStyle(document.body).color }, { label: opts && opts.unit || "", stroke: getComputedStyle(document.body).color, size: 60 }],
    series: [{ label: "s" }, ...series.map((s, i) => ({ label: s.label, stroke: s.color || palette[i % palette.length], width: 1.5, dash: s.dash }))],
  }, [xs, ...series.map((s) => s.values.map(clean))], box);
}
`;

// Runs in the report's page: plain browser JavaScript, reading REPORT.
const PAGE_SCRIPT = `
const R = REPORT;
document.getElementById("verdict").textContent = R.ok ? "Nothing acknowledged was lost or duplicated; the origin, every replica and every browser converged." : "FAILED: " + R.failures.join("; ");
document.getElementById("verdict").className = R.ok ? "ok" : "bad";
document.getElementById("meta").textContent = R.editors + " protocol editors + " + R.browsers + " Chromium pages on " + R.settings.pages + " hot pages, " + R.settings.pops + " PoPs x " + R.settings.replicasPerPop + " replicas, flush every " + R.settings.flushMs + " ms; " + R.durationS + " s measured; peak " + R.settings.peakRate + " offered edits/s. " + R.machine.cores + " cores (" + (R.machine.model || "?") + "), commit " + R.code.commit + ". " + R.command + ". Live figures of a running deployment: " + R.deployment.opsUrl;

const target = (level) => R.targets.ackP99Ms[level];
const rows = R.levels.map((l) => {
  const t = target(l.durability);
  const isBaseline = R.baseline && l.durability === "origin";
  const r = R.ratios[l.durability];
  return [
    l.durability + (isBaseline ? " (write-through baseline)" : ""), fmt(l.acked), fmt(l.ackedPerSec), fmt(l.peakAckedPerSec),
    fmt(l.ackLatencyMs.p50), fmt(l.ackLatencyMs.p90), t ? { text: fmt(l.ackLatencyMs.p99) + " (≤ " + t + ")", cls: l.ackLatencyMs.p99 <= t ? "met" : "missed" } : fmt(l.ackLatencyMs.p99), fmt(l.ackLatencyMs.max),
    fmt(l.originTransactions), isBaseline ? fmt(l.batchingFactor) : { text: fmt(l.batchingFactor) + " (≥ " + R.targets.batchingFactor + ")", cls: l.batchingFactor >= R.targets.batchingFactor ? "met" : "missed" },
    { text: String(l.lost), cls: l.lost ? "missed" : "met" }, { text: String(l.duplicated), cls: l.duplicated ? "missed" : "met" },
    { text: l.converged ? fmt(l.convergenceMs) + " ms" : "no", cls: l.converged ? "met" : "missed" },
    r ? { text: fmt(r.p99LowerBy, 1) + "x / " + fmt(r.peakAckedPerSecMoreBy, 1) + "x", cls: (r.p99LowerBy ?? 0) >= R.targets.ratioAgainstWriteThrough ? "met" : "missed" } : "",
  ];
});
document.getElementById("summary").append(table(["level", "acked", "acked/s", "peak acked/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "origin tx", "batching", "lost", "dup", "converged", "vs write-through: p99 / peak"], rows));

if (R.readers) {
  const rd = R.readers, t = R.targets.readers;
  document.getElementById("readers-section").hidden = false;
  document.getElementById("readers-meta").textContent = rd.settings.viewsPerSec + " views/s offered (open loop, " + rd.settings.connections + " keep-alive connections, gzip, no cookie; " + (rd.settings.browsers ?? 0) + " Chromium tabs beside them) on the first level's " + rd.pages.length + " hot pages, " + rd.settings.seconds + " s per path, after one view of each; " + (rd.settings.during ? "during the first level's load, its editors changing the pages." : "meanwhile each page got a flushed edit every " + rd.settings.editMs + " ms (" + rd.edits.merged + " merged).") + " Cache: " + rd.cacheConfig + ". Postgres: " + rd.postgresCounter + ". Issue 21's target: " + t.viewsPerSec.toLocaleString("en-US") + " views/s on " + t.pages + " pages through the cache, origin renders ≤ " + t.originRendersPerSec + "/s, read p99 ≤ " + t.readP99Ms + " ms.";
  const cpu = (phase, prefix) => { const p = phase.usage.find((u) => u.name.startsWith(prefix)); return p ? fmt(p.cpuPercent) : "-"; };
  const readerRows = rd.phases.map((p) => {
    const cached = p.through === "cache";
    const b = p.browserReaders;
    return [
      cached ? "nginx cache" : "origin, no cache", fmt(p.offeredPerSec), fmt(p.answeredPerSec), { text: fmt(p.skipped) + " / " + fmt(p.failed), cls: p.failed ? "missed" : "" },
      fmt(p.latencyMs.p50), cached ? { text: fmt(p.latencyMs.p99) + " (≤ " + t.readP99Ms + ")", cls: p.latencyMs.p99 <= t.readP99Ms ? "met" : "missed" } : fmt(p.latencyMs.p99),
      p.hitRatio === null ? "-" : (p.hitRatio * 100).toFixed(2) + "%",
      cached ? { text: fmt(p.originRendersPerSec, 1) + " (≤ " + t.originRendersPerSec + ")", cls: p.originRendersPerSec !== null && p.originRendersPerSec <= t.originRendersPerSec ? "met" : "missed" } : fmt(p.originRendersPerSec, 1),
      fmt(p.originNotModifiedPerSec, 1), fmt(p.postgresTransactionsPerSec, 1), cpu(p, "origin") + " / " + cpu(p, "nginx") + " / " + fmt(p.machineBusyPercent),
      b ? fmt(b.loads) + " in " + b.browsers + " tabs, " + fmt(b.loadMs.p50) + " / " + fmt(b.loadMs.p99) : "-",
    ];
  });
  document.getElementById("readers").append(table(["through", "offered views/s", "answered/s", "skipped / failed", "read p50 ms", "read p99 ms", "hit ratio", "origin renders/s", "origin 304s/s", "Postgres tx/s", "CPU %: origin / nginx / machine", "Chromium: loads, p50 / p99 ms"], readerRows));
}

const shadeOfLevel = { edge: "#2563eb", pop: "#16a34a", origin: "#dc2626" };
const timeline = (l) => l.timeline.filter((s) => s.atS >= -R.settings.warmupS);
const primary = R.levels[0];
{
  const xs = timeline(primary).map((s) => s.atS);
  const at = (l, key) => { const m = new Map(timeline(l).map((s) => [s.atS, s[key]])); return xs.map((x) => m.has(x) ? m.get(x) : null); };
  chart("Offered and acknowledged edits per second", xs, [
    { label: "offered (" + primary.durability + ")", values: at(primary, "offered"), color: "#9ca3af", dash: [4, 4] },
    ...R.levels.map((l) => ({ label: "acked, " + l.durability, values: at(l, "acked"), color: shadeOfLevel[l.durability] })),
  ], { unit: "edits/s" });
  chart("Ack latency per second sent (p50 solid, p99 dashed; log scale)", xs, R.levels.flatMap((l) => [
    { label: l.durability + " p50", values: at(l, "p50Ms"), color: shadeOfLevel[l.durability] },
    { label: l.durability + " p99", values: at(l, "p99Ms"), color: shadeOfLevel[l.durability], dash: [6, 3] },
    { label: l.durability + " max", values: at(l, "maxMs"), color: shadeOfLevel[l.durability], dash: [1, 3] },
  ]), { unit: "ms", log: true });
  chart("Origin transactions per second", xs, R.levels.map((l) => ({ label: l.durability, values: at(l, "originTx"), color: shadeOfLevel[l.durability] })), { unit: "tx/s" });
}
for (const l of R.levels) {
  if (!l.usage.points.length) continue;
  const xs = l.usage.points.map((p) => p.atS);
  const used = l.usage.names.map((name, i) => ({ name, i })).filter(({ i }) => l.usage.points.some((p) => p.cpuPercent[i] > 0 || p.rssMiB[i] > 0));
  chart("CPU per process, " + l.durability + " (% of one core)", xs, used.map(({ name, i }) => ({ label: name, values: l.usage.points.map((p) => p.cpuPercent[i]) })), { unit: "% core", into: "usage" });
  chart("Memory per process, " + l.durability + " (RSS)", xs, used.map(({ name, i }) => ({ label: name, values: l.usage.points.map((p) => p.rssMiB[i]) })), { unit: "MiB", into: "usage" });
}

const events = document.getElementById("events");
const faultRows = R.levels.flatMap((l) => [
  ...(l.topology ? [[l.durability, "", "deployment", l.topology]] : []),
  ...l.faults.map((f) => [l.durability, "+" + f.atS + " s", f.what, f.detail]),
  ...(l.bootstrap ? [[l.durability, "", "bootstrap of the added replica", "process ready in " + l.bootstrap.processReadyMs + " ms; hottest page (" + fmt(l.bootstrap.pageBytes) + " bytes) synced in " + l.bootstrap.firstSyncMs + " ms; page loads " + JSON.stringify(l.bootstrap.loadedFrom)]] : []),
]);
events.append(faultRows.length ? table(["level", "when", "what", "detail"], faultRows) : el("p", { textContent: "No faults were injected in this run." }));
const browserRows = R.levels.flatMap((l) => l.browserEditors.map((b) => [l.durability, "browser " + b.index, b.slug, b.connectedTo, String(b.typed), b.saved ? "yes" : "no", { text: b.textMatchesOrigin ? "yes" : "no", cls: b.textMatchesOrigin ? "met" : "missed" }]));
if (browserRows.length) events.append(table(["level", "browser", "page", "connected", "edits typed", "saved", "shows the converged text"], browserRows));
const replicaRows = R.levels.flatMap((l) => l.verification.replicas.map((r) => [l.durability, r.replica, String(r.lost), String(r.duplicated), r.differingPages.length ? r.differingPages.join(", ") : "identical to the origin", r.error || ""]));
events.append(table(["level", "replica", "lost", "duplicated", "against the origin", "error"], replicaRows));

const processRows = R.levels.flatMap((l) => l.usage.summary.processes.map((p) => [l.durability, p.name, fmt(p.cpuPercent), fmt(p.rssMiB), fmt(p.maxRssMiB)]));
document.getElementById("processes").append(table(["level", "process", "CPU % of one core (measured window)", "RSS MiB at the end", "max RSS MiB"], processRows));
`;
