/**
 * The PoP log's append path alone, over the real JetStream (issue 19): the
 * CPU this process spends per client update appended and acknowledged by
 * the log, its own follow of the log included, with `--per-turn` updates
 * arriving in each turn of the event loop spread over `--pages` pages (a
 * busy edge reads many updates per turn). CPU time, not latency: it moves
 * far less with the machine's load than bench:edge's figures do.
 *
 *   npx tsx e2e/load/bench-pop-append.ts --updates 20000 --per-turn 20 --pages 20
 */
import { parseArgs } from "node:util";
import { randomUUID } from "node:crypto";
import * as Y from "yjs";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { connectNats } from "../../broker/nats";
import { createLogger } from "../../common/logger";
import type { Slug } from "../../common/slug";
import { Page } from "../../edge/pages/page";
import { PopLog, type PopLogHost } from "../../edge/pop/pop-log";
import { subjects } from "../../protocol/subjects";

const { values: args } = parseArgs({
  options: {
    updates: { type: "string", default: "20000" },
    "per-turn": { type: "string", default: "20" },
    pages: { type: "string", default: "20" },
    "in-flight": { type: "string", default: "2000" },
    nats: { type: "string", default: process.env.WEIRWOOD_TEST_NATS_URL ?? "nats://127.0.0.1:4222" },
  },
});
const total = Number(args.updates);
const perTurn = Number(args["per-turn"]);
const pageCount = Number(args.pages);
const maxInFlight = Number(args["in-flight"]);

// Each editor types on a line of its own, as bench:edge's crowd mix does; made before the clock starts.
const editors = Array.from({ length: 200 }, () => new Y.Doc());
const updates: Uint8Array[] = [];
for (let i = 0; i < total; i++) {
  const doc = editors[i % editors.length]!;
  doc.once("update", (update: Uint8Array) => updates.push(update));
  doc.getText("body").insert(doc.getText("body").length, `[e${i}]\n`);
}

const pop = `append-bench-${randomUUID().slice(0, 8)}`;
const broker = await connectNats({ servers: args.nats, name: `${pop}-replica` });
const log = await broker.durableLog(subjects.logStream(pop), subjects.logAll(pop));
const pages = Array.from({ length: pageCount }, (_, i) => new Page(`Bench_${i}` as Slug, { protection: "none", originVector: new Uint8Array([0]), revision: 0 }));
const held = new Map<string, Page>(pages.map((page) => [page.slug, page]));
const host: PopLogHost = {
  replica: "bench",
  openPage: async (slug) => held.get(slug)!,
  heldPage: (slug) => held.get(slug),
  loadingPage: () => undefined,
  apply: () => {},
  applyLogEntry: () => {},
  applyPending: () => false,
  learnClaims: () => {},
};
const popLog = new PopLog(log, host, (slug) => subjects.logPage(pop, slug), createLogger("bench", "warn"));
await popLog.start();

const turn = () => new Promise((resolve) => setImmediate(resolve));
// A counter and one waiter, not a race over every append in flight: the harness must cost next to nothing.
let inFlight = 0;
let belowBound: (() => void) | undefined;
const settled = () => {
  inFlight -= 1;
  if (inFlight <= maxInFlight / 2 && belowBound) {
    belowBound();
    belowBound = undefined;
  }
};
let failures = 0;
const cpuBefore = process.cpuUsage();
const started = performance.now();
for (let i = 0; i < total; ) {
  for (let k = 0; k < perTurn && i < total; k++, i++) {
    inFlight += 1;
    popLog.append(pages[i % pageCount]!, updates[i]!, ["bench-user"]).then(settled, () => {
      failures += 1;
      settled();
    });
  }
  await turn();
  if (inFlight > maxInFlight) await new Promise<void>((resolve) => (belowBound = resolve));
}
while (inFlight > 0) await turn();
const seconds = (performance.now() - started) / 1000;
const cpu = process.cpuUsage(cpuBefore);
const entries = await log.entryCount();
console.log(
  `${total} updates, ${perTurn} per turn over ${pageCount} pages: ${((cpu.user + cpu.system) / total).toFixed(1)} µs of CPU per update ` +
    `(user ${(cpu.user / total).toFixed(1)}, system ${(cpu.system / total).toFixed(1)}), ${(total / seconds).toFixed(0)} updates/s, ${entries} log entries, ${failures} appends failed`,
);

await popLog.stop();
await broker.close();
const nc = await connect({ servers: args.nats });
await (await jetstreamManager(nc)).streams.delete(subjects.logStream(pop)).catch(() => false);
await nc.close();
for (const page of pages) page.destroy();
