// `npm run spike`: the Red Wedding spike, reproduced and verified.
//
//   npm run spike                                   # red-wedding, full size (~6 min)
//   npm run spike -- --quick                        # what CI runs (< 2 min)
//   npm run spike -- --scenario steady --durability pop --duration 30
//   npm run spike -- --kill-replica --durability pop
//   npm run spike -- --stop-origin 10
//   npm run spike -- --durability pop --kill-nats           # faults of the engine: NATS cluster (R3) of the
//   npm run spike -- --durability pop --partition-pop 30    # guide's topology, started by the harness; a
//   npm run spike -- --durability pop --restart-nats 5      # single-server PoP (R1) for --restart-nats; a
//   npm run spike -- --durability pop --restart-postgres 10 # private Postgres for --restart-postgres
//   npm run spike -- --origins 2                             # two origin processes; PoPs flush to them in turn
//   npm run spike -- --target http://127.0.0.1:3000 # against a running `npm start`
//   npm run spike -- --scenario hot-page            # the crowd on one page, as a curve of crowd sizes
//   npm run spike -- --quick --readers 2000          # then 2,000 anonymous views/s of the hot pages, through the
//                                                    # guide's nginx cache and straight at the origin
//   npm run spike -- --quick --readers 10000 --readers-through cache --readers-during
//                                                    # the same during the first level's writes
//
// By default the harness starts its own self-hosted Weirwood on this
// machine (the wiki + origin of `npm run origin` on a scratch Postgres
// database, PoPs of `npm run edge` processes over NATS) so that it can run
// each durability level and the write-through baseline in one run, add a
// replica mid-spike and inject faults. Protocol-level editors (worker
// threads) and real Chromium pages type at once; afterwards every
// acknowledged edit must be in the origin and in every replica exactly
// once, and every browser must show the converged text, or the command
// exits non-zero. Writes the JSON report (--report) and an HTML page with
// charts beside it (and a PNG of the charts).
import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import { DURABILITY_LEVELS, type DurabilityLevel } from "../../protocol/messages";
import { launchChromium } from "./browser-editors";
import { connectTarget, type Deployment, type ManagedDeployment, NATS_KINDS, type NatsKind, SPIKE_PASSWORD, startManaged } from "./deployment";
import { buildReport, printSummary, type SpikeReport } from "./report";
import { renderHtml } from "./report-html";
import { renderHotPageHtml } from "./hot-page/report-html";
import { type HotPageReport, type HotPageSettings, runHotPage } from "./hot-page/run-hot-page";
import type { LevelReport, SpikeSettings } from "./level-report";
import { READ_PATHS, type ReadersReport, type ReadersSettings, type ReadPath, runReadPhases } from "./read-phases";
import { hotPageSlugs, runLevel } from "./run-level";
import { type Scenario, SCENARIOS } from "./scenarios";

const { values: args } = parseArgs({
  options: {
    scenario: { type: "string", default: "red-wedding" },
    quick: { type: "boolean", default: false },
    editors: { type: "string" },
    browsers: { type: "string" },
    pages: { type: "string" },
    zipf: { type: "string", default: "1" },
    duration: { type: "string" },
    warmup: { type: "string" },
    rate: { type: "string" },
    "base-rate": { type: "string" },
    pops: { type: "string", default: "2" },
    replicas: { type: "string", default: "2" },
    "flush-ms": { type: "string", default: "2000" },
    durability: { type: "string" },
    "skip-baseline": { type: "boolean", default: false },
    "kill-replica": { type: "boolean", default: false },
    "stop-origin": { type: "string", default: "0" },
    nats: { type: "string" },
    origins: { type: "string", default: "1" },
    "kill-nats": { type: "boolean", default: false },
    "restart-nats": { type: "string", default: "0" },
    "partition-pop": { type: "string", default: "0" },
    "restart-postgres": { type: "string", default: "0" },
    "add-replica": { type: "string", default: "yes" },
    "browser-edit-ms": { type: "string", default: "1000" },
    workers: { type: "string", default: "2" },
    target: { type: "string" },
    report: { type: "string" },
    png: { type: "string", default: "yes" },
    points: { type: "string" },
    render: { type: "string" },
    probes: { type: "string", default: "100" },
    readers: { type: "string", default: "0" },
    "readers-through": { type: "string", default: "cache,origin" },
    "readers-seconds": { type: "string" },
    "readers-connections": { type: "string", default: "64" },
    "readers-threads": { type: "string", default: "2" },
    "readers-max-queue-ms": { type: "string", default: "1000" },
    "readers-during": { type: "boolean", default: false },
    placement: { type: "string", default: "shared" },
    "readers-edit-ms": { type: "string", default: "1000" },
    "reader-browsers": { type: "string", default: "2" },
  },
});

function number(name: string, value: string | undefined, fallback: number, { allowZero = false } = {}): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0 || (!allowZero && parsed === 0)) {
    throw new Error(`spike: --${name} must be a ${allowZero ? "non-negative" : "positive"} number, got ${JSON.stringify(value)}`);
  }
  return parsed;
}

function yesNo(name: string, value: string): boolean {
  if (value !== "yes" && value !== "no") throw new Error(`spike: --${name} takes yes or no, got ${JSON.stringify(value)}`);
  return value === "yes";
}

function parseSettings(): { settings: SpikeSettings; levels: DurabilityLevel[]; baseline: boolean } {
  if (!(SCENARIOS as readonly string[]).includes(args.scenario)) {
    throw new Error(`spike: --scenario takes ${[...SCENARIOS, "hot-page"].join(", ")}, got ${JSON.stringify(args.scenario)}`);
  }
  const quick = args.quick;
  const peakRate = number("rate", args.rate, quick ? 400 : 1500);
  const levels = (args.durability ?? (quick ? "edge" : "edge,pop")).split(",").map((level) => {
    if (!(DURABILITY_LEVELS as readonly string[]).includes(level)) throw new Error(`spike: --durability takes ${DURABILITY_LEVELS.join(",")}, got ${JSON.stringify(level)}`);
    return level as DurabilityLevel;
  });
  const settings: SpikeSettings = {
    scenario: args.scenario as Scenario,
    editors: number("editors", args.editors, quick ? 200 : 1000),
    browsers: number("browsers", args.browsers, quick ? 2 : 4, { allowZero: true }),
    pages: number("pages", args.pages, quick ? 3 : 5),
    zipf: number("zipf", args.zipf, 1, { allowZero: true }),
    durationS: number("duration", args.duration, quick ? 15 : 60),
    warmupS: number("warmup", args.warmup, quick ? 2 : 3, { allowZero: true }),
    peakRate,
    baseRate: number("base-rate", args["base-rate"], Math.max(1, Math.round(peakRate / 10))),
    pops: number("pops", args.pops, 2),
    replicasPerPop: number("replicas", args.replicas, 2),
    flushMs: number("flush-ms", args["flush-ms"], 2000),
    workers: number("workers", args.workers, 2),
    browserEditMs: number("browser-edit-ms", args["browser-edit-ms"], 1000),
    killReplica: args["kill-replica"],
    stopOriginS: number("stop-origin", args["stop-origin"], 0, { allowZero: true }),
    addReplica: yesNo("add-replica", args["add-replica"]),
    killNats: args["kill-nats"],
    restartNatsS: number("restart-nats", args["restart-nats"], 0, { allowZero: true }),
    partitionPopS: number("partition-pop", args["partition-pop"], 0, { allowZero: true }),
    restartPostgresS: number("restart-postgres", args["restart-postgres"], 0, { allowZero: true }),
    nats: "shared",
    postgres: "shared",
    origins: number("origins", args.origins, 1),
    runTag: randomLetters(4),
  };
  settings.nats = natsKind(settings);
  if (settings.restartPostgresS > 0) settings.postgres = "private";
  const faults = settings.killReplica || settings.stopOriginS > 0 || settings.killNats || settings.restartNatsS > 0 || settings.partitionPopS > 0 || settings.restartPostgresS > 0;
  if (args.target && (faults || args.nats || settings.origins > 1)) {
    throw new Error("spike: faults and --nats need the harness's own deployment (leave out --target)");
  }
  if (args.target) settings.addReplica = false;
  const baseline = !args["skip-baseline"] && !args.target && !levels.includes("origin");
  return { settings, levels: baseline ? [...levels, "origin"] : levels, baseline };
}

/**
 * The NATS a run needs: what --nats says, else the guide's cluster (R3)
 * for faults of NATS, a single server per PoP (R1) for --restart-nats
 * alone, the shared server otherwise. A fault the chosen NATS cannot take
 * is refused before anything starts.
 */
function natsKind(settings: SpikeSettings): NatsKind {
  if (args.nats !== undefined && !(NATS_KINDS as readonly string[]).includes(args.nats)) {
    throw new Error(`spike: --nats takes ${NATS_KINDS.join(", ")}, got ${JSON.stringify(args.nats)}`);
  }
  const wanted = args.nats as NatsKind | undefined;
  const natsFaults = settings.killNats || settings.restartNatsS > 0 || settings.partitionPopS > 0;
  const kind = wanted ?? (settings.killNats || settings.partitionPopS > 0 ? "cluster" : settings.restartNatsS > 0 ? "single" : "shared");
  if (natsFaults && kind === "shared") throw new Error("spike: --kill-nats, --restart-nats and --partition-pop need NATS of the run's own (--nats cluster or single), not the machine's shared server");
  if (settings.killNats && kind !== "cluster") throw new Error("spike: --kill-nats kills one server of a PoP's three for good: it needs --nats cluster (a single-server PoP would just be down; try --restart-nats)");
  return kind;
}

/** `--readers 2000`: anonymous views per second of the first level's hot pages, through the nginx cache and straight at the origin (0: none). */
function parseReadersSettings(): ReadersSettings | undefined {
  const viewsPerSec = number("readers", args.readers, 0, { allowZero: true });
  if (viewsPerSec === 0) return undefined;
  if (args.target) throw new Error("spike: --readers starts the guide's nginx cache in front of the harness's own origin and reads its database: leave out --target");
  const through = args["readers-through"].split(",").map((path) => {
    if (!(READ_PATHS as readonly string[]).includes(path)) throw new Error(`spike: --readers-through takes ${READ_PATHS.join(",")} (one or both), got ${JSON.stringify(path)}`);
    return path as ReadPath;
  });
  const during = args["readers-during"];
  if (during && through.length !== 1) throw new Error("spike: --readers-during reads during the first level, so through one path: add --readers-through cache (or origin)");
  return {
    viewsPerSec,
    through,
    seconds: number("readers-seconds", args["readers-seconds"], args.quick ? 10 : 20),
    connections: number("readers-connections", args["readers-connections"], 64),
    threads: number("readers-threads", args["readers-threads"], 2),
    maxQueueMs: number("readers-max-queue-ms", args["readers-max-queue-ms"], 1000),
    during,
    browsers: number("reader-browsers", args["reader-browsers"], 2, { allowZero: true }),
    editMs: number("readers-edit-ms", args["readers-edit-ms"], 1000),
  };
}

function randomLetters(count: number): string {
  return [...randomBytes(count)].map((byte) => String.fromCharCode(97 + (byte % 26))).join("");
}

const log = (line: string) => console.log(line);

async function writeReports(report: SpikeReport, jsonPath: string, png: boolean): Promise<void> {
  await mkdir(path.dirname(jsonPath), { recursive: true });
  await writeFile(jsonPath, `${JSON.stringify(report, null, 2)}\n`);
  const htmlPath = jsonPath.replace(/\.json$/u, "") + ".html";
  await writeFile(htmlPath, renderHtml(report));
  log(`\nwrote ${jsonPath} and ${htmlPath}`);
  if (png) await screenshot(htmlPath);
}

/** A picture of a report's summary and charts, for the README and the issue notes. */
async function screenshot(htmlPath: string): Promise<void> {
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1240, height: 900 }, colorScheme: "light" });
    await page.goto(`file://${path.resolve(htmlPath)}`);
    const pngPath = htmlPath.replace(/\.html$/u, ".png");
    await page.locator("#headline").screenshot({ path: pngPath });
    log(`wrote ${pngPath}`);
  } finally {
    await browser.close();
  }
}

/** `--points 250:0,1000:0,100:5000`: editors:followers per point of the hot-page curve. */
function parsePoints(value: string): HotPageSettings["points"] {
  return value.split(",").map((point) => {
    const match = /^(\d+):(\d+)$/u.exec(point.trim());
    if (!match || Number(match[1]) < 1) throw new Error(`spike: --points takes editors:followers pairs such as 250:0,100:2000 (at least one editor), got ${JSON.stringify(point)}`);
    return { editors: Number(match[1]), followers: Number(match[2]) };
  });
}

function parseHotPageSettings(): HotPageSettings {
  const quick = args.quick;
  return {
    points: parsePoints(args.points ?? (quick ? "50:0,100:200" : "250:0,500:0,1000:0,2000:0,100:1000,100:2000,100:5000")),
    seconds: number("duration", args.duration, quick ? 8 : 20),
    warmupS: number("warmup", args.warmup, quick ? 2 : 3, { allowZero: true }),
    editsPerSecond: number("rate", args.rate, 1),
    cursorMovesPerSecond: 1,
    probes: number("probes", args.probes, 100),
    pops: number("pops", args.pops, 2),
    replicasPerPop: number("replicas", args.replicas, 2),
    flushMs: number("flush-ms", args["flush-ms"], 2000),
    workers: number("workers", args.workers, 2),
    placement: placementOf(args.placement),
    runTag: randomLetters(4),
  };
}

/** `--placement split`: the hot page's edges on the first half of the cores, the crowd on the rest (shared: wherever the kernel puts them). */
function placementOf(value: string | undefined): HotPageSettings["placement"] {
  if (value === "shared" || value === "split") return value;
  throw new Error(`spike: --placement takes shared or split, got ${JSON.stringify(value)}`);
}

async function mainHotPage(startedAt: number): Promise<void> {
  const settings = parseHotPageSettings();
  const reportPath = args.report ?? `reports/spike-hot-page${args.quick ? "-quick" : ""}.json`;
  log(`spike "hot-page": points ${settings.points.map((p) => `${p.editors}:${p.followers}`).join(", ")} (editors:followers), ${settings.seconds} s each`);
  const deployment: Deployment = args.target ? await connectTarget(args.target.replace(/\/$/u, "")) : await startManaged({ pgUrl, natsUrl, log });
  let report: HotPageReport;
  try {
    // Against a deployment that limits each account's rate, one account per editor's 1 edit/s would be many: 1 per 10.
    const largest = Math.max(...settings.points.map((p) => p.editors + p.followers));
    const accounts = await deployment.register(deployment.kind === "target" ? Math.ceil(largest / 10) : 4, `Crowd ${settings.runTag}`);
    report = await runHotPage(
      deployment,
      settings,
      accounts.map((account) => account.token),
      log,
    );
  } finally {
    await deployment.close();
  }
  report.wallS = Math.round((Date.now() - startedAt) / 1000);
  log(report.ok ? "\nOK: every receiver got every acknowledged edit at every point." : `\nFAILED:\n  ${report.failures.join("\n  ")}`);
  await mkdir(path.dirname(reportPath), { recursive: true });
  await writeFile(reportPath, `${JSON.stringify(report, null, 2)}\n`);
  const htmlPath = reportPath.replace(/\.json$/u, "") + ".html";
  await writeFile(htmlPath, renderHotPageHtml(report));
  log(`wrote ${reportPath} and ${htmlPath}`);
  if (yesNo("png", args.png)) await screenshot(htmlPath);
  if (!report.ok) process.exitCode = 1;
}

const pgUrl = process.env.WEIRWOOD_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const natsUrl = process.env.WEIRWOOD_TEST_NATS_URL ?? "nats://127.0.0.1:4222";

/** `--render FILE.json`: the HTML page and PNG again from a report, after a change to how reports look. */
async function rerender(jsonPath: string): Promise<void> {
  const report = JSON.parse(await readFile(jsonPath, "utf8")) as SpikeReport | HotPageReport;
  const htmlPath = jsonPath.replace(/\.json$/u, "") + ".html";
  await writeFile(htmlPath, report.scenario === "hot-page" ? renderHotPageHtml(report as HotPageReport) : renderHtml(report as SpikeReport));
  log(`wrote ${htmlPath}`);
  if (yesNo("png", args.png)) await screenshot(htmlPath);
}

async function main(): Promise<void> {
  const startedAt = Date.now();
  if (args.render) return rerender(args.render);
  if (args.scenario === "hot-page") return mainHotPage(startedAt);
  const { settings, levels } = parseSettings();
  const readersSettings = parseReadersSettings();
  const reportPath = args.report ?? `reports/spike-${settings.scenario}${args.quick ? "-quick" : ""}.json`;
  log(
    `spike "${settings.scenario}"${args.quick ? " (quick)" : ""}: ${settings.editors} protocol editors + ${settings.browsers} browsers on ${settings.pages} pages, ` +
      `${settings.durationS} s at up to ${settings.peakRate} edits/s; levels ${levels.join(", ")}`,
  );
  const deployment: Deployment = args.target
    ? await connectTarget(args.target.replace(/\/$/u, ""))
    : await startManaged({ pgUrl, natsUrl, log, nats: settings.nats, postgres: settings.postgres, origins: settings.origins });
  log(`watch it live: ${deployment.originUrl}/ops (admins)`);
  let report: SpikeReport | undefined;
  try {
    // One account per browser (each logs in), and some for the protocol
    // editors' tokens: a deployment the harness did not start limits each
    // account's edit rate (15/s for a new one), so it needs one per 10 edits/s.
    const editorAccounts = deployment.kind === "target" ? Math.ceil(settings.peakRate / 10) : 4;
    const accounts = await deployment.register(settings.browsers + editorAccounts, `Spike ${settings.runTag}`);
    if (deployment.kind === "managed") log(`log in as "${accounts[0]!.name}" (the wiki's first account, an admin) with the password "${SPIKE_PASSWORD}" to see /ops`);
    const reports: LevelReport[] = [];
    const readPhases = (loadBegins?: Promise<number>) =>
      runReadPhases({ deployment: deployment as ManagedDeployment, slugs: hotPageSlugs(settings, levels[0]!), settings: readersSettings!, log, loadBegins });
    let readers: ReadersReport | null = null;
    if (readersSettings?.during && deployment.kind === "managed") {
      // Beside the first level's writers: the same hot pages, read while they are written.
      let begins!: (at: number) => void;
      let ended!: (error: Error) => void;
      const reading = readPhases(new Promise<number>((resolve, reject) => ((begins = resolve), (ended = reject))));
      reading.catch(() => {}); // awaited below; a level that fails first is the error to report
      try {
        reports.push(await runLevel(deployment, settings, levels[0]!, accounts, log, begins));
      } finally {
        ended(new Error("spike: the first level ended before its load began"));
      }
      readers = await reading;
      for (const level of levels.slice(1)) reports.push(await runLevel(deployment, settings, level, accounts, log));
    } else {
      for (const level of levels) reports.push(await runLevel(deployment, settings, level, accounts, log));
      // After the writers: the first level's hot pages, written and converged, now read.
      if (readersSettings && deployment.kind === "managed") readers = await readPhases();
    }
    report = buildReport({ levels: reports, readers, settings, deployment: { kind: deployment.kind, originUrl: deployment.originUrl }, startedAt });
  } finally {
    await deployment.close();
  }
  printSummary(report, log);
  await writeReports(report, reportPath, yesNo("png", args.png));
  if (!report.ok) process.exitCode = 1;
}

// Exits explicitly: every process and connection the run started is
// closed above, but a pooled keep-alive socket or a NATS reconnect timer
// of a client library must not keep a finished CI step waiting.
main()
  .catch((error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exitCode = 1;
  })
  .finally(() => process.exit());
