import { describe, expect, it } from "vitest";
import * as Y from "yjs";
import { createLogger } from "../../common/logger";
import type { Slug } from "../../common/slug";
import type { DurableLog, LogEntry } from "../../broker/broker";
import { createMemoryBus } from "../../broker/memory";
import { Page } from "../pages/page";
import { PopLog, type PopLogHost } from "./pop-log";
import { decodeEnvelope, encodeEnvelope } from "../../protocol/envelope";
import { subjects } from "../../protocol/subjects";
import { TickBatcher } from "../pages/tick-batch";

/** A log whose followed entries the test hands in itself. */
class HandFedLog implements DurableLog {
  deliver: (entry: LogEntry) => void = () => {};
  async append(): Promise<bigint> {
    return 0n;
  }
  async follow(_from: bigint, onEntry: (entry: LogEntry) => void) {
    this.deliver = onEntry;
    return () => {};
  }
  async readAll(): Promise<LogEntry[]> {
    return [];
  }
  async purge(): Promise<void> {}
  async lastSequence(): Promise<bigint> {
    return 0n;
  }
  async entryCount(): Promise<number> {
    return 0;
  }
}

function entry(sequence: bigint, replica: string, text: string): LogEntry {
  const doc = new Y.Doc();
  doc.getText("body").insert(0, text);
  const data = encodeEnvelope({ type: "update", replica, slug: "Dragonstone", update: Y.encodeStateAsUpdate(doc), edits: 1, authors: ["Davos"], claims: [] });
  return { sequence, subject: "ww.log", data };
}

describe("following the PoP's log", () => {
  it("an own entry does not move the page's sequence past a peer's entry still waiting for its tick", async () => {
    const page = new Page("Dragonstone" as Slug, { protection: "none", originVector: new Uint8Array([0]), revision: 0 });
    const batch = new TickBatcher(1 << 20, () => {});
    const host: PopLogHost = {
      replica: "me",
      openPage: async () => page,
      learnClaims: (target, claims) => void target.claims.learn(claims),
      heldPage: () => page,
      loadingPage: () => undefined,
      apply: (target, update, origin) => Y.applyUpdate(target.doc, update, origin),
      applyLogEntry: (target, update, sequence) => batch.log(target, update, sequence),
      applyPending: (target) => batch.holds(target),
    };
    const log = new HandFedLog();
    await new PopLog(log, host, () => "ww.log", createLogger("test", "silent")).recover();

    log.deliver(entry(5n, "peer", "[the peer's]"));
    log.deliver(entry(6n, "me", "[mine]"));
    // Neither is applied yet: a flush now must not report 6 (the log would be purged past 5).
    expect(page.logSequence).toBe(0n);
    await new Promise((resolve) => setImmediate(resolve));
    expect(page.logSequence).toBe(6n);
    expect(page.doc.getText("body").toString()).toContain("[the peer's]");

    // Nothing waiting: an own entry (already applied when its client sent it) advances at once.
    log.deliver(entry(7n, "me", "[mine again]"));
    expect(page.logSequence).toBe(7n);
    page.destroy();
  });
});

/** A replica as the log sees it: pages in a map, opened by `load` and then replayed from the log. */
function replicaOver(load: (slug: Slug) => Promise<Page>) {
  const pages = new Map<string, Page>();
  const host: PopLogHost = {
    replica: "me",
    learnClaims: (target, claims) => void target.claims.learn(claims),
    openPage: async (slug) => {
      const page = pages.get(slug) ?? (await load(slug));
      if (!pages.has(slug)) {
        pages.set(slug, page);
        await popLog.replayPage(page);
      }
      return page;
    },
    heldPage: (slug) => pages.get(slug),
    loadingPage: () => undefined,
    apply: (target, update, origin) => Y.applyUpdate(target.doc, update, origin),
    applyLogEntry: (target, update) => Y.applyUpdate(target.doc, update),
    applyPending: () => false,
  };
  let popLog!: PopLog;
  return {
    pages,
    host,
    attach(log: PopLog) {
      popLog = log;
    },
  };
}

const pop = "north";
const emptyPage = (slug: string) => new Page(slug as Slug, { protection: "none", originVector: new Uint8Array([0]), revision: 0 });

/** Types `text` at the end of the page and returns the update. */
function type(page: Page, text: string): Uint8Array {
  let update: Uint8Array = new Uint8Array();
  const capture = (u: Uint8Array) => (update = u);
  page.doc.once("update", capture);
  page.doc.getText("body").insert(page.doc.getText("body").length, text);
  return update;
}

describe("the PoP log without the origin", () => {
  it("after a commit the log keeps a checkpoint and the later entries, and rebuilds the page from them alone", async () => {
    const log = await createMemoryBus().connect("me").durableLog(subjects.logStream(pop), subjects.logAll(pop));
    const replica = replicaOver(async (slug) => emptyPage(slug));
    const popLog = new PopLog(log, replica.host, (slug) => subjects.logPage(pop, slug), createLogger("test", "silent"));
    replica.attach(popLog);
    const page = emptyPage("Winterfell");
    // What the origin had when the page was loaded: not in the log at all.
    Y.applyUpdate(page.doc, type(emptyPage("scratch"), "[from the origin]"));
    page.revision = 4;
    await popLog.append(page, type(page, "[one]"), ["Bran"]);
    await popLog.append(page, type(page, "[two]"), ["Bran"]);
    // Before any commit: the checkpoint written before the first entry holds what the origin had.
    const beforeCommit = emptyPage("Winterfell");
    Y.applyUpdate(beforeCommit.doc, (await popLog.loggedPage("Winterfell" as Slug))!.state);
    await popLog.replayPage(beforeCommit);
    expect(beforeCommit.doc.getText("body").toString()).toBe("[from the origin][one][two]");
    await popLog.committed(page, await log.lastSequence());
    await popLog.append(page, type(page, "[three]"), ["Bran"]);
    // The checkpoint written after the commit, and the entry after it.
    expect(await log.entryCount()).toBe(2);

    const rebuilt = await popLog.loggedPage("Winterfell" as Slug);
    expect(rebuilt?.revision).toBe(4);
    const fresh = emptyPage("Winterfell");
    Y.applyUpdate(fresh.doc, rebuilt!.state);
    await popLog.replayPage(fresh);
    expect(fresh.doc.getText("body").toString()).toBe("[from the origin][one][two][three]");
    await popLog.stop();
  });

  it("checkpoints and entries carry whose each client id is, so a page rebuilt from the log alone knows its claims (issue 18)", async () => {
    const log = await createMemoryBus().connect("me").durableLog(subjects.logStream(pop), subjects.logAll(pop));
    const replica = replicaOver(async (slug) => emptyPage(slug));
    const popLog = new PopLog(log, replica.host, (slug) => subjects.logPage(pop, slug), createLogger("test", "silent"));
    replica.attach(popLog);
    const page = emptyPage("Riverrun");
    const before = type(page, "[Edmure]");
    page.claims.claim(Y.parseUpdateMeta(before).from.keys(), "Edmure");
    const scratch = emptyPage("scratch");
    Y.applyUpdate(scratch.doc, Y.encodeStateAsUpdate(page.doc));
    scratch.doc.clientID = 77;
    const later = type(scratch, "[Catelyn]");
    Y.applyUpdate(page.doc, later);
    page.claims.claim([77], "Catelyn");
    await popLog.append(page, later, ["Catelyn"]);

    const rebuilt = await popLog.loggedPage("Riverrun" as Slug);
    expect(rebuilt?.claims).toEqual(expect.arrayContaining([[page.doc.clientID, "Edmure"]]));
    // Replayed, the checkpoint and the entry tell a fresh page every claim.
    const fresh = emptyPage("Riverrun");
    Y.applyUpdate(fresh.doc, rebuilt!.state);
    await popLog.replayPage(fresh);
    expect(fresh.claims.all()).toEqual([
      [page.doc.clientID, "Edmure"],
      [77, "Catelyn"],
    ]);
    await popLog.stop();
  });

  it("a page the log cannot rebuild and nobody can load does not stop the others; it is retried until it loads", async () => {
    const log = await createMemoryBus().connect("me").durableLog(subjects.logStream(pop), subjects.logAll(pop));
    const entryOf = (slug: string, text: string) => {
      const doc = new Y.Doc();
      doc.getText("body").insert(0, text);
      return encodeEnvelope({ type: "update", replica: "gone", slug, update: Y.encodeStateAsUpdate(doc), edits: 1, authors: ["Arya"], claims: [] });
    };
    await log.append(subjects.logPage(pop, "Braavos"), entryOf("Braavos", "[a girl]"));
    await log.append(subjects.logPage(pop, "Harrenhal"), entryOf("Harrenhal", "[no one]"));
    let refusals = 2;
    const replica = replicaOver(async (slug) => {
      if (slug === "Harrenhal" && refusals-- > 0) throw new Error("origin unreachable");
      return emptyPage(slug);
    });
    const popLog = new PopLog(log, replica.host, (slug) => subjects.logPage(pop, slug), createLogger("test", "silent"), 10);
    replica.attach(popLog);
    expect(await popLog.loggedPage("Harrenhal" as Slug)).toBeUndefined();

    await popLog.recover();
    expect(replica.pages.get("Braavos")?.doc.getText("body").toString()).toBe("[a girl]");
    expect(popLog.pagesToRecover).toEqual(["Harrenhal"]);
    const deadline = Date.now() + 5000;
    while (popLog.pagesToRecover.length > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(popLog.pagesToRecover).toEqual([]);
    expect(refusals).toBe(-1);
    expect(replica.pages.get("Harrenhal")?.doc.getText("body").toString()).toBe("[no one]");
    await popLog.stop();
  });

  it("a starting replica serves before the whole log is replayed: pages opened first hold their logged entries, those logged after the start too", async () => {
    const log = await createMemoryBus().connect("me").durableLog(subjects.logStream(pop), subjects.logAll(pop));
    const entryOf = (slug: string, text: string) => {
      const doc = new Y.Doc();
      doc.getText("body").insert(0, text);
      return encodeEnvelope({ type: "update", replica: "gone", slug, update: Y.encodeStateAsUpdate(doc), edits: 1, authors: ["Sam"], claims: [] });
    };
    // The first page's load hangs (a slow peer, an origin timing out): the replay stops there.
    await log.append(subjects.logPage(pop, "Casterly"), entryOf("Casterly", "[the rock]"));
    await log.append(subjects.logPage(pop, "Oldtown"), entryOf("Oldtown", "[the citadel]"));
    let release!: () => void;
    const hanging = new Promise<void>((resolve) => (release = resolve));
    const replica = replicaOver(async (slug) => {
      if (slug === "Casterly") await hanging;
      return emptyPage(slug);
    });
    const popLog = new PopLog(log, replica.host, (slug) => subjects.logPage(pop, slug), createLogger("test", "silent"), 10);
    replica.attach(popLog);

    await popLog.start();
    expect(replica.pages.has("Oldtown")).toBe(false);
    // A client opens a page the background replay has not reached.
    const oldtown = await replica.host.openPage("Oldtown" as Slug);
    expect(oldtown.doc.getText("body").toString()).toBe("[the citadel]");
    // A peer logs an entry of a page this replica does not hold, after the start.
    await log.append(subjects.logPage(pop, "Highgarden"), entryOf("Highgarden", "[the reach]"));
    await new Promise((resolve) => setImmediate(resolve));
    const highgarden = await replica.host.openPage("Highgarden" as Slug);
    expect(highgarden.doc.getText("body").toString()).toBe("[the reach]");

    release();
    await popLog.replayed();
    expect(replica.pages.get("Casterly")?.doc.getText("body").toString()).toBe("[the rock]");
    await popLog.stop();
  });

  it("a recovery after a peer vanished that cannot read the log is tried again until it can", async () => {
    const memory = await createMemoryBus().connect("me").durableLog(subjects.logStream(pop), subjects.logAll(pop));
    let unreadable = 0;
    const log: DurableLog = {
      append: (subject, data) => memory.append(subject, data),
      follow: (from, onEntry) => memory.follow(from, onEntry),
      readAll: () => (unreadable-- > 0 ? Promise.reject(new Error("stream info timed out")) : memory.readAll()),
      purge: (subject, below) => memory.purge(subject, below),
      lastSequence: () => memory.lastSequence(),
      entryCount: () => memory.entryCount(),
    };
    const replica = replicaOver(async (slug) => emptyPage(slug));
    const popLog = new PopLog(log, replica.host, (slug) => subjects.logPage(pop, slug), createLogger("test", "silent"), 10);
    replica.attach(popLog);
    await popLog.recover();
    // A peer dies having appended an entry whose page this replica never held, while the log cannot be read.
    const doc = new Y.Doc();
    doc.getText("body").insert(0, "[the peer's]");
    await memory.append(
      subjects.logPage(pop, "Pyke"),
      encodeEnvelope({ type: "update", replica: "gone", slug: "Pyke", update: Y.encodeStateAsUpdate(doc), edits: 1, authors: ["Theon"], claims: [] }),
    );
    unreadable = 3;
    popLog.recoverAgain();
    const deadline = Date.now() + 5000;
    while (!replica.pages.has("Pyke") && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(unreadable).toBe(-1);
    expect(replica.pages.get("Pyke")?.doc.getText("body").toString()).toBe("[the peer's]");
    await popLog.stop();
  });
});

/** A log whose appends of update entries wait for `open()`, or fail once `refuse` is set. */
function gated(log: DurableLog) {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  const state = { refuse: false, updateAppends: 0 };
  const wrapped: DurableLog = {
    ...log,
    append: async (subject, data) => {
      if (decodeEnvelope(data).type !== "update") return log.append(subject, data);
      state.updateAppends += 1;
      if (state.refuse) throw new Error("the broker refused the append");
      await opened;
      return log.append(subject, data);
    },
    follow: (from, onEntry) => log.follow(from, onEntry),
    readAll: () => log.readAll(),
    purge: (subject, below) => log.purge(subject, below),
    lastSequence: () => log.lastSequence(),
    entryCount: () => log.entryCount(),
  };
  return { log: wrapped, open, state };
}

describe("appending a turn's updates", () => {
  it("the updates a page receives in one turn share one log entry, and each append resolves only once that entry is in the log", async () => {
    const memoryLog = await createMemoryBus().connect("me").durableLog(subjects.logStream(pop), subjects.logAll(pop));
    const { log, open, state } = gated(memoryLog);
    const replica = replicaOver(async (slug) => emptyPage(slug));
    const popLog = new PopLog(log, replica.host, (slug) => subjects.logPage(pop, slug), createLogger("test", "silent"));
    replica.attach(popLog);
    const winterfell = emptyPage("Winterfell");
    const eyrie = emptyPage("Eyrie");
    const settled: string[] = [];
    const appends = [
      popLog.append(winterfell, type(winterfell, "[Bran]"), ["Bran"]).then(() => settled.push("Bran")),
      popLog.append(winterfell, type(winterfell, "[Arya]"), ["Arya"]).then(() => settled.push("Arya")),
      popLog.append(eyrie, type(eyrie, "[Lysa]"), ["Lysa"]).then(() => settled.push("Lysa")),
      popLog.append(winterfell, type(winterfell, "[Sansa]"), ["Sansa"]).then(() => settled.push("Sansa")),
    ];
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    // One entry per page, and nothing acknowledged before the log holds it.
    expect(state.updateAppends).toBe(2);
    expect(settled).toEqual([]);
    open();
    await Promise.all(appends);
    expect(settled.sort()).toEqual(["Arya", "Bran", "Lysa", "Sansa"]);

    const updates = (await memoryLog.readAll()).map((entry) => decodeEnvelope(entry.data)).filter((envelope) => envelope.type === "update");
    expect(updates.map((envelope) => envelope.type === "update" && [envelope.slug, envelope.edits, envelope.authors])).toEqual([
      ["Winterfell", 3, ["Bran", "Arya", "Sansa"]],
      ["Eyrie", 1, ["Lysa"]],
    ]);
    const fresh = emptyPage("Winterfell");
    await popLog.replayPage(fresh);
    expect(fresh.doc.getText("body").toString()).toBe("[Bran][Arya][Sansa]");
    await popLog.stop();
  });

  it("a refused append fails every update of its turn, and the next turn's updates go in an entry of their own", async () => {
    const memoryLog = await createMemoryBus().connect("me").durableLog(subjects.logStream(pop), subjects.logAll(pop));
    const { log, open, state } = gated(memoryLog);
    open();
    const replica = replicaOver(async (slug) => emptyPage(slug));
    const popLog = new PopLog(log, replica.host, (slug) => subjects.logPage(pop, slug), createLogger("test", "silent"));
    replica.attach(popLog);
    const page = emptyPage("Harrenhal");
    state.refuse = true;
    const refused = await Promise.allSettled([popLog.append(page, type(page, "[Arya]"), ["Arya"]), popLog.append(page, type(page, "[Gendry]"), ["Gendry"])]);
    expect(refused.map((outcome) => outcome.status)).toEqual(["rejected", "rejected"]);
    state.refuse = false;
    await popLog.append(page, type(page, "[Hot Pie]"), ["Hot Pie"]);
    expect(state.updateAppends).toBe(2);
    const updates = (await memoryLog.readAll()).map((entry) => decodeEnvelope(entry.data)).filter((envelope) => envelope.type === "update");
    expect(updates.map((envelope) => envelope.type === "update" && envelope.authors)).toEqual([["Hot Pie"]]);
    await popLog.stop();
  });
});
