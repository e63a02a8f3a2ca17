import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningEdge } from "../../edge/edge";
import { acksBelow } from "../../e2e/load/ack-durability";
import { type BrowserTexts, compareBrowsers } from "../../e2e/spike/browser-check";
import type { BrowserEditorReport } from "../../e2e/spike/browser-editors";
import { awaitConvergence } from "../../e2e/spike/convergence";
import { failuresOf } from "../../e2e/spike/report";
import { savedLevel } from "../../e2e/spike/browser-editors";
import { checkLateAcks, countLateAsAcked } from "../../e2e/load/late-acks";
import type { LevelReport } from "../../e2e/spike/level-report";
import { spikeShape } from "../../e2e/spike/scenarios";
import { type Cluster, eventually, startCluster } from "../support/cluster";
import { testDatabases } from "../support/databases";

/**
 * The spike harness's verdict must be able to say no: a marker the texts do
 * not hold, a replica that differs, a browser that shows something else.
 */
describe("the spike's convergence check against real edges", () => {
  let cluster: Cluster;
  let token: string;
  beforeAll(async () => {
    cluster = await startCluster({ database: testDatabases[0]!, broker: "memory", pops: ["east", "west"], replicasPerPop: 2, flushMs: 200 });
    token = await cluster.token("Verifier");
  });
  afterAll(() => cluster.stop());

  const originTexts = (slugs: readonly string[]) =>
    Promise.all(
      slugs.map(async (slug) => {
        const response = await fetch(`${cluster.originUrl}/api/pages/${slug}`);
        return [slug, response.status === 404 ? "" : ((await response.json()) as { text: string }).text] as const;
      }),
    ).then((entries) => new Map(entries));

  it("converges when every acknowledged marker reached the origin and every replica", async () => {
    const slug = "Spike_check_converges";
    const [east, west] = [cluster.edgesOf(cluster.pops[0]!)[0]!, cluster.edgesOf(cluster.pops[1]!)[1]!];
    const editors = [cluster.editor(east, slug, token), cluster.editor(west, slug, token)];
    await Promise.all(editors.map((editor) => editor.synced));
    await Promise.all([editors[0]!.insert(0, "[a1]"), editors[1]!.insert(0, "[b1]")]);
    const report = await awaitConvergence({
      slugs: [slug],
      replicas: cluster.edges.map((edge) => ({ replica: edge.replica.replica, url: edge.url })),
      token,
      originTexts,
      acked: new Map([[slug, ["[a1]", "[b1]"]]]),
      unacked: new Map(),
      since: Date.now(),
      timeoutMs: 20_000,
    });
    expect(report.converged).toBe(true);
    expect(report.origin).toMatchObject({ acked: 2, lost: 0, duplicated: 0 });
    expect(report.replicas).toHaveLength(4);
    for (const replica of report.replicas) expect(replica).toMatchObject({ lost: 0, duplicated: 0, differingPages: [] });
    await Promise.all(editors.map((editor) => editor.close()));
  });

  it("reports an acknowledged marker that no text holds as lost, and does not converge", async () => {
    const slug = "Spike_check_lost";
    const editor = cluster.editor(cluster.edges[0]!, slug, token);
    await editor.synced;
    await editor.insert(0, "[kept]");
    const report = await awaitConvergence({
      slugs: [slug],
      replicas: cluster.edges.map((edge) => ({ replica: edge.replica.replica, url: edge.url })),
      token,
      originTexts,
      acked: new Map([[slug, ["[kept]", "[never-sent]"]]]),
      unacked: new Map(),
      since: Date.now(),
      timeoutMs: 3_000,
    });
    expect(report.converged).toBe(false);
    expect(report.convergenceMs).toBeNull();
    expect(report.origin.lost).toBe(1);
    expect(report.origin.examples.lost).toEqual([`${slug} [never-sent]`]);
    await editor.close();
  });

  it("reports an acknowledged marker that a text holds twice as duplicated, and does not converge", async () => {
    const slug = "Spike_check_duplicate";
    const editor = cluster.editor(cluster.edges[0]!, slug, token);
    await editor.synced;
    await editor.insert(0, "[twice]");
    await editor.insert(0, "[twice]");
    const report = await awaitConvergence({
      slugs: [slug],
      replicas: cluster.edges.map((edge) => ({ replica: edge.replica.replica, url: edge.url })),
      token,
      originTexts,
      acked: new Map([[slug, ["[twice]"]]]),
      unacked: new Map(),
      since: Date.now(),
      timeoutMs: 3_000,
    });
    expect(report.converged).toBe(false);
    expect(report.origin).toMatchObject({ acked: 1, lost: 0, duplicated: 1 });
    expect(report.origin.examples.duplicated).toEqual([`${slug} [twice] x2`]);
    await editor.close();
  });

  it("names a replica that serves a text other than the origin's, and does not converge", async () => {
    const slug = "Spike_check_differs";
    const [writing, stale] = cluster.edgesOf(cluster.pops[0]!) as [RunningEdge, RunningEdge];
    // The stale replica holds the page, then hears nothing more: its broker is cut.
    const watcher = cluster.editor(stale, slug, token);
    const writer = cluster.editor(writing, slug, token);
    await Promise.all([watcher.synced, writer.synced]);
    await writer.insert(0, "[first]");
    await eventually(() => stale.replica.pages.get(slug)?.doc.getText("body").toString(), (text) => text === "[first]");
    // ... and knows it flushed: a page still dirty there would be flushed by
    // it after two intervals (the orphan rule), and its flush would bring the
    // origin's newer text back over HTTP, broker or not.
    await eventually(() => stale.replica.pages.get(slug)?.dirty, (dirty) => dirty === false);
    cluster.bus!.disconnect(cluster.brokerOf(stale));
    try {
      await writer.insert(0, "[second]");
      const report = await awaitConvergence({
        slugs: [slug],
        replicas: cluster.edges.map((edge) => ({ replica: edge.replica.replica, url: edge.url })),
        token,
        originTexts,
        acked: new Map([[slug, ["[first]", "[second]"]]]),
        unacked: new Map(),
        since: Date.now(),
        timeoutMs: 3_000,
      });
      expect(report.origin).toMatchObject({ acked: 2, lost: 0, duplicated: 0 });
      expect(report.converged).toBe(false);
      const bad = report.replicas.filter((replica) => replica.differingPages.length > 0);
      expect(bad).toEqual([{ replica: stale.replica.replica, lost: 1, duplicated: 0, differingPages: [slug] }]);
    } finally {
      cluster.bus!.reconnect(cluster.brokerOf(stale));
      await Promise.all([watcher.close(), writer.close()]);
    }
  });

  it("names a replica that cannot be read instead of counting it as converged", async () => {
    const slug = "Spike_check_unreachable";
    const report = await awaitConvergence({
      slugs: [slug],
      replicas: [{ replica: "nowhere", url: "ws://127.0.0.1:9" }],
      token,
      originTexts,
      acked: new Map(),
      unacked: new Map(),
      since: Date.now(),
      timeoutMs: 500,
    });
    expect(report.converged).toBe(false);
    expect(report.replicas[0]).toMatchObject({ replica: "nowhere", differingPages: [slug] });
    expect(report.replicas[0]!.error).toMatch(/nowhere/);
  });
});

describe("the browsers' check", () => {
  const report = (index: number, slug: string, saved: boolean) => ({ index, slug, saved }) as unknown as BrowserEditorReport;
  const browsersShowing = (shown: { slug: string; text: string; saved: boolean }[]): BrowserTexts => ({
    texts: async () => shown.map(({ slug, text }, index) => ({ index, slug, text })),
    reports: () => shown.map(({ slug, saved }, index) => report(index, slug, saved)),
  });
  const origin = new Map([["Kings_Landing", "[a][b]"]]);

  it("passes browsers that show the origin's text", async () => {
    const result = await compareBrowsers(browsersShowing([{ slug: "Kings_Landing", text: "[a][b]", saved: true }]), origin, 0);
    expect(result.browsersConverged).toBe(true);
    expect(result.browserEditors.map((browser) => browser.textMatchesOrigin)).toEqual([true]);
  });

  it("refuses a browser that said its edits were saved and shows something else", async () => {
    const shown = [
      { slug: "Kings_Landing", text: "[a][b]", saved: true },
      { slug: "Kings_Landing", text: "[a]", saved: true },
    ];
    const result = await compareBrowsers(browsersShowing(shown), origin, 0);
    expect(result.browsersConverged).toBe(false);
    expect(result.browserEditors.map((browser) => browser.textMatchesOrigin)).toEqual([true, false]);
  });

  it("leaves a browser still waiting for its acks to the unsaved count, not to the text check", async () => {
    const result = await compareBrowsers(browsersShowing([{ slug: "Kings_Landing", text: "[a][b][c]", saved: false }]), origin, 0);
    expect(result.browsersConverged).toBe(true);
    expect(result.browserEditors[0]!.textMatchesOrigin).toBe(false);
  });
});

describe("acks checked against the durability under test", () => {
  it("counts the acks that claimed less than the level, and none that claimed more", () => {
    expect(acksBelow({ edge: 3, pop: 5, origin: 1 }, "pop")).toBe(3);
    expect(acksBelow({ edge: 3, pop: 5 }, "origin")).toBe(8);
    expect(acksBelow({ pop: 5, origin: 2 }, "pop")).toBe(0);
    expect(acksBelow({ edge: 4 }, "edge")).toBe(0);
    expect(acksBelow({}, "origin")).toBe(0);
  });
});

describe("the spike's verdict", () => {
  const clean = {
    durability: "edge",
    acksByDurability: { edge: 10 },
    faults: [],
    editors: 10,
    connected: 10,
    lost: 0,
    duplicated: 0,
    converged: true,
    browsersConverged: true,
    browserEditors: [],
    crashes: [],
    verification: { origin: { unackedDuplicated: 0 } },
  } as unknown as LevelReport;

  it("passes a clean level and fails each kind of fault with a reason", () => {
    expect(failuresOf([clean])).toEqual([]);
    expect(failuresOf([{ ...clean, lost: 3 }])).toEqual(["edge: 3 acknowledged edits lost"]);
    expect(failuresOf([{ ...clean, duplicated: 1 }])).toEqual(["edge: 1 acknowledged edits duplicated"]);
    expect(failuresOf([{ ...clean, converged: false }])[0]).toMatch(/did not converge/);
    expect(failuresOf([{ ...clean, browsersConverged: false }])[0]).toMatch(/browser/);
    const waiting = [{ saved: false }] as LevelReport["browserEditors"];
    expect(failuresOf([{ ...clean, browserEditors: waiting }])).toEqual(["edge: 1 browsers never said their edits were saved"]);
    // At write-through, a browser still waiting on the origin is the baseline's slowness, not a fault.
    expect(failuresOf([{ ...clean, durability: "origin", acksByDurability: { origin: 10 }, browserEditors: waiting } as LevelReport])).toEqual([]);
    expect(failuresOf([{ ...clean, crashes: [{ replica: "east-a", exit: "SIGSEGV", at: "" }] }])[0]).toMatch(/east-a exited/);
    expect(failuresOf([{ ...clean, connected: 7 }])[0]).toMatch(/only 7 of 10/);
    // An edge under test at pop that acknowledges at edge told its clients less than it promised.
    expect(failuresOf([{ ...clean, durability: "pop", acksByDurability: { edge: 2, pop: 8 } } as LevelReport])).toEqual([
      'pop: 2 acks claimed less than pop durability ({"edge":2,"pop":8})',
    ]);
    expect(failuresOf([{ ...clean, durability: "pop", acksByDurability: { pop: 8, origin: 2 } } as LevelReport])).toEqual([]);
    // A mid-spike fault that could not be made leaves the run unproven.
    const failedEvent = { atS: 12.5, what: "event failed", detail: "spawn ENOENT" };
    expect(failuresOf([{ ...clean, faults: [failedEvent] }])).toEqual(["edge: a mid-spike event failed at +12.5s: spawn ENOENT"]);
    expect(failuresOf([{ ...clean, faults: [{ atS: 10, what: "replica killed", detail: "east-b (SIGKILL)" }] }])).toEqual([]);
  });

  it("fails a browser whose status line names less durability than the level under test", () => {
    const browser = (savedAs: string) => ({ index: 1, slug: "A", pop: "p", connectedTo: "", typed: 3, saved: true, savedAs, savedLevel: savedLevel(savedAs), openMs: 1, textMatchesOrigin: true });
    const atPop = (savedAs: string) => failuresOf([{ ...clean, durability: "pop", acksByDurability: { pop: 10 }, browserEditors: [browser(savedAs)] } as LevelReport]);
    expect(atPop("Saved at the edge")).toEqual(['pop: browser 1 said "Saved at the edge", less than pop durability']);
    expect(atPop("Saved at the edge · in the PoP's log")).toEqual([]);
    expect(atPop("Saved to the wiki at 18:02:11")).toEqual([]);
    expect(atPop("Saved somewhere new")[0]).toMatch(/less than pop/);
    expect(failuresOf([{ ...clean, browserEditors: [browser("Saved at the edge")] } as LevelReport])).toEqual([]);
  });
});

describe("acks that arrive after the drain", () => {
  it("are checked at the origin like the others: a missing one is lost, one there twice duplicated", async () => {
    const late = new Map([["A", ["[a1]", "[a2]", "[a3]"]], ["B", ["[b1]"]]]);
    const texts = async () => new Map([["A", "[a1][a3][a3]"], ["B", "[b1]"]]);
    expect(await checkLateAcks(late, texts, 0)).toEqual({ count: 4, lost: 1, duplicated: 1 });
    expect(await checkLateAcks(new Map(), texts, 0)).toEqual({ count: 0, lost: 0, duplicated: 0 });
  });

  it("bench:edge moves them from the unacknowledged markers (allowed to be lost) to the acknowledged (checked)", () => {
    const markers = { acked: new Map([["A", ["[a1]"]]]), unacked: new Map([["A", ["[a2]", "[a3]"]]]) };
    expect(countLateAsAcked(markers, new Map([["A", ["[a2]"]]]))).toBe(1);
    expect(markers).toEqual({ acked: new Map([["A", ["[a1]", "[a2]"]]]), unacked: new Map([["A", ["[a3]"]]]) });
  });

  it("waits for the last of them to reach the origin", async () => {
    let reads = 0;
    const texts = async () => new Map([["A", ++reads > 2 ? "[a1]" : ""]]);
    expect(await checkLateAcks(new Map([["A", ["[a1]"]]]), texts, 10_000)).toEqual({ count: 1, lost: 0, duplicated: 0 });
    expect(reads).toBe(3);
  });
});

describe("the spike's shapes", () => {
  it("red-wedding ramps from the base rate to the peak and back inside the measured window", () => {
    const shape = spikeShape("red-wedding", { peakRate: 1000, baseRate: 100, durationS: 100, warmupS: 5 });
    expect(shape.rate.map((point) => point.perSecond)).toEqual([100, 100, 1000, 1000, 100, 100]);
    expect(shape.rate.map((point) => point.atS)).toEqual([0, 25, 40, 70, 85, 105]);
    expect([shape.peakFromS, shape.peakToS]).toEqual([35, 65]);
  });

  it("steady holds the peak rate all along", () => {
    expect(spikeShape("steady", { peakRate: 500, baseRate: 50, durationS: 30, warmupS: 2 })).toEqual({
      rate: [{ atS: 0, perSecond: 500 }],
      peakFromS: 0,
      peakToS: 30,
    });
  });
});
