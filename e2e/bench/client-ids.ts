// What binding Yjs client ids to writers (issue 18) adds to each edit at the
// edge: the check of a writer's update, the claims an update carries to the
// peers, the screening of a peer's update, beside applying the edit itself.
// One page of N writers who typed a paragraph each; every figure is the mean
// over the measured edits, in microseconds. docs/benchmarks.md, "Client id checks".
//
//   npm run bench:client-ids -- [--writers 1000] [--edits 20000]
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import * as Y from "yjs";
import type { Slug } from "../../common/slug";
import { conflictingClients, readStructs } from "../../common/client-structs";
import { checkClientIds, screenRemote } from "../../edge/pages/client-ids";
import { Page } from "../../edge/pages/page";

const { values } = parseArgs({ options: { writers: { type: "string", default: "1000" }, edits: { type: "string", default: "20000" } } });
const writers = Number(values.writers);
const edits = Number(values.edits);
if (!(writers > 0 && edits > 0)) throw new Error("bench:client-ids: --writers and --edits must be positive numbers");

/** The page as N writers left it, and one more document per writer to type the next edits from. */
function setUp(): { page: Page; docs: Y.Doc[] } {
  const page = new Page("Bench" as Slug, { protection: "none", originVector: new Uint8Array([0]), revision: 0 });
  const docs: Y.Doc[] = [];
  for (let i = 0; i < writers; i++) {
    const doc = new Y.Doc();
    doc.clientID = 1000 + i;
    Y.applyUpdate(doc, Y.encodeStateAsUpdate(page.doc));
    doc.getText("body").insert(Math.floor(doc.getText("body").length / 2), `writer ${i} typed a sentence here. `);
    Y.applyUpdate(page.doc, Y.encodeStateAsUpdate(doc, Y.encodeStateVector(page.doc)));
    page.claims.claim([doc.clientID], `user ${i}`);
    docs.push(doc);
  }
  return { page, docs };
}

/** Keystroke updates, one per edit, round robin over the writers, each typed on a writer's doc kept in step. */
function keystrokes(page: Page, docs: Y.Doc[]): { update: Uint8Array; writer: number }[] {
  const out: { update: Uint8Array; writer: number }[] = [];
  for (let i = 0; i < edits; i++) {
    const writer = i % docs.length;
    const doc = docs[writer]!;
    const before = Y.encodeStateVector(doc);
    doc.getText("body").insert(Math.floor(doc.getText("body").length / 3), "x");
    out.push({ update: Y.encodeStateAsUpdate(doc, before), writer });
  }
  void page;
  return out;
}

function mean(label: string, run: (i: number) => void): number {
  const started = performance.now();
  for (let i = 0; i < edits; i++) run(i);
  const micros = ((performance.now() - started) * 1000) / edits;
  console.log(`${label.padEnd(58)} ${micros.toFixed(2).padStart(8)} µs/edit`);
  return micros;
}

const { page, docs } = setUp();
const updates = keystrokes(page, docs);
console.log(`one page, ${writers} writers, ${edits} single-character edits (node ${process.version})`);
const decode = mean("Y.decodeUpdate (the wholeness check before issue 18)", (i) => void Y.decodeUpdate(updates[i]!.update));
const check = mean("checkClientIds (replaces it: decode, claims, overlap)", (i) => {
  const verdict = checkClientIds(page, updates[i]!.update, `user ${updates[i]!.writer}`, { whole: true, claims: () => true });
  if (verdict.kind !== "accepted") throw new Error("bench:client-ids: an honest edit was refused");
});
const claims = mean("page.claimsOf (the claims sent to peers, relay, log)", (i) => void page.claimsOf(updates[i]!.update));
const screen = mean("screenRemote (a peer's update, at each peer)", (i) => void screenRemote(page, updates[i]!.update, [[1000 + updates[i]!.writer, `user ${updates[i]!.writer}`]]));
// Applying last: the checks above ran against a page that does not hold the edits yet, as at the edge.
const apply = mean("Y.applyUpdate of the edit itself (for scale)", (i) => Y.applyUpdate(page.doc, updates[i]!.update));
const resend = mean("checkClientIds of an honest resend (all clocks overlap)", (i) => {
  const verdict = checkClientIds(page, updates[i]!.update, `user ${updates[i]!.writer}`, { whole: true, claims: () => true });
  if (verdict.kind !== "accepted") throw new Error("bench:client-ids: an honest resend was refused");
});
// What a pull of another PoP's commit compares when the page holds it all
// already (takeFromOrigin): every clock of the page, once. Timed per clock.
const whole = readStructs(Y.encodeStateAsUpdate(page.doc));
const clocks = [...whole.ranges.values()].reduce((sum, range) => sum + range.to - range.from, 0);
const rounds = 20;
const compareStarted = performance.now();
for (let i = 0; i < rounds; i++) if (conflictingClients(page.doc, whole).length > 0) throw new Error("bench:client-ids: the page disagrees with itself");
const perClock = ((performance.now() - compareStarted) * 1000) / (rounds * clocks);
console.log(`${"conflictingClients of the whole page against itself".padEnd(58)} ${perClock.toFixed(3).padStart(8)} µs/clock (${clocks} clocks)`);
console.log(
  `added per edit at the accepting replica: ${(check - decode + claims).toFixed(2)} µs; at each peer: ${screen.toFixed(2)} µs; apply: ${apply.toFixed(2)} µs; a resend's check: ${resend.toFixed(2)} µs`,
);
