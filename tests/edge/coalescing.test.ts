import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { originText } from "../support/origin-text";
import type { ProtocolEditor } from "../../e2e/load/protocol-editor";
import { seededRandom } from "../../e2e/load/zipf";
import { type Cluster, eventually, startCluster } from "../support/cluster";
import { testDatabases } from "../support/databases";

// Fresh seeds every run (printed in the test name), so that runs explore
// different schedules; a failing seed replays with COALESCING_SEEDS=1234,5678.
const seeds = process.env.COALESCING_SEEDS?.split(",").map(Number) ?? [0, 1].map(() => Math.floor(Math.random() * 2 ** 31));

const EDITORS = 16;
const FOLLOWERS = 4;
const ROUNDS = 12;

/** A random position at a marker boundary, so that no insert splits a marker. */
function boundary(text: string, random: () => number): number {
  const ends = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === "]") ends.push(i + 1);
  return ends[Math.floor(random() * ends.length)]!;
}

/** Deletes a random run of filler dots, never a marker's character. */
function deleteFiller(editor: ProtocolEditor, random: () => number): Promise<unknown> | undefined {
  const text = editor.text.toString();
  const dots: number[] = [];
  for (let i = 0; i < text.length; i++) if (text[i] === ".") dots.push(i);
  if (dots.length === 0) return undefined;
  const start = dots[Math.floor(random() * dots.length)]!;
  let length = 1;
  while (text[start + length] === "." && length < 1 + Math.floor(random() * 40)) length += 1;
  return editor.delete(start, length);
}

describe.each(seeds)("coalesced fan-out under random windows and byte bounds (seed %i)", (seed) => {
  const random = seededRandom(seed);
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster({ database: testDatabases[0]!, broker: "memory", replicasPerPop: 0, flushMs: 300, env: { EDGE_RATE_LIMIT: "off" } });
    for (const pop of cluster.pops) {
      for (let i = 0; i < 2; i++) {
        await cluster.addReplica(pop, {
          EDGE_FANOUT_WINDOW_MS: String(Math.floor(random() * 40)),
          // Small bounds force windows to close early on long inserts.
          EDGE_FANOUT_MAX_BYTES: String(random() < 0.5 ? 200 + Math.floor(random() * 2000) : 65_536),
        });
      }
    }
    // Every replica has heard every other of its PoP before the test types.
    const members = (edge: Cluster["edges"][number]) => edge.replica.membership.list().map((member) => member.replica);
    await eventually(
      () => cluster.edges.every((edge) => cluster.edgesOf(edge.replica.pop).every((peer) => members(edge).includes(peer.replica.replica))),
      Boolean,
    );
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it("every editor, follower, replica and the origin converge, and every marker is there exactly once", async () => {
    const slug = `Riverrun_${seed}`;
    const token = await cluster.token(`Edmure${seed}`);
    const readerToken = await cluster.token(`Blackfish${seed}`, "reader");
    const at = (i: number) => cluster.edges[i % cluster.edges.length]!;
    const editors = Array.from({ length: EDITORS }, (_, i) => cluster.editor(at(i), slug, token));
    const followers = Array.from({ length: FOLLOWERS }, (_, i) => cluster.editor(at(i + 1), slug, readerToken));
    await Promise.all([...editors, ...followers].map((client) => client.synced));

    const markers: string[] = [];
    const acks: Promise<unknown>[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      for (const [i, editor] of editors.entries()) {
        const burst = Math.floor(random() * 4);
        for (let n = 0; n < burst; n++) {
          const marker = `[e${i}r${round}n${n}]`;
          markers.push(marker);
          // Now and then a long insert, past the smaller byte bounds.
          const filler = ".".repeat(random() < 0.1 ? 500 + Math.floor(random() * 3000) : Math.floor(random() * 20));
          acks.push(editor.insert(boundary(editor.text.toString(), random), marker + filler));
        }
        if (random() < 0.3) {
          const deleted = deleteFiller(editor, random);
          if (deleted) acks.push(deleted);
        }
      }
      await new Promise((resolve) => setTimeout(resolve, Math.floor(random() * 30)));
    }
    await Promise.all(acks);

    const texts = async () => {
      return [
        (await originText(cluster.origin, slug)) ?? "",
        ...cluster.edges.map((edge) => edge.replica.pages.get(slug)?.doc.getText("body").toString() ?? ""),
        ...[...editors, ...followers].map((client) => client.text.toString()),
      ];
    };
    const converged = await eventually(texts, (all) => all.every((text) => text === all[0]) && markers.every((m) => all[0]!.includes(m)), 20_000);
    for (const text of converged) expect(text).toBe(converged[0]);
    for (const marker of markers) expect(converged[0]!.split(marker).length - 1).toBe(1);
    // The followers were refused nothing and wrote nothing, yet hold it all.
    for (const follower of followers) expect(follower.denied).toEqual([]);

    await Promise.all([...editors, ...followers].map((client) => client.close()));
  });
});
