import { describe, expect, it } from "vitest";
import * as Y from "yjs";
import type { Slug } from "../../common/slug";
import { Page, type UpdateOrigin } from "./page";
import { TickBatcher } from "./tick-batch";

function newPage(): Page {
  return new Page("Tick_page" as Slug, { protection: "none", originVector: new Uint8Array([0]), revision: 0 });
}

/** A client's insert as the update it would send. */
function insertFrom(text: string): Uint8Array {
  const doc = new Y.Doc();
  doc.getText("body").insert(0, text);
  return Y.encodeStateAsUpdate(doc);
}

function record(page: Page): { origin: UpdateOrigin; update: Uint8Array }[] {
  const events: { origin: UpdateOrigin; update: Uint8Array }[] = [];
  page.doc.on("update", (update: Uint8Array, origin: UpdateOrigin) => events.push({ origin, update }));
  return events;
}

const nextTick = () => new Promise((resolve) => setImmediate(resolve));

describe("applying a tick's updates in one transaction per kind", () => {
  it("applies every client update of a tick in one transaction that names their connections, authors and count", async () => {
    const page = newPage();
    const events = record(page);
    const batch = new TickBatcher(1 << 20, () => {});
    const applied = ["[a]", "[b]", "[c]"].map((marker, i) => batch.client(page, insertFrom(marker), 10 + i, i === 2 ? "Arya" : "Sansa"));
    expect(page.doc.getText("body").toString()).toBe("");
    expect(batch.holds(page)).toBe(true);
    await Promise.all(applied);
    expect(batch.holds(page)).toBe(false);
    expect(events).toHaveLength(1);
    const origin = events[0]!.origin;
    expect(origin.kind).toBe("client");
    if (origin.kind !== "client") return;
    expect([...origin.connections]).toEqual([10, 11, 12]);
    expect([...origin.authors].sort()).toEqual(["Arya", "Sansa"]);
    expect(origin.edits).toBe(3);
    // The one update event carries all three: a client that applies it alone converges.
    const receiver = new Y.Doc();
    Y.applyUpdate(receiver, events[0]!.update);
    for (const marker of ["[a]", "[b]", "[c]"]) expect(receiver.getText("body").toString()).toContain(marker);
  });

  it("keeps peers' and relayed updates in transactions of their own, with the peers' counts", async () => {
    const page = newPage();
    const events = record(page);
    const batch = new TickBatcher(1 << 20, () => {});
    const mine = batch.client(page, insertFrom("[mine]"), 1, "Bran");
    batch.peer(page, insertFrom("[peer1]"), ["Hodor"], 2);
    batch.peer(page, insertFrom("[peer2]"), ["Meera", ""], 3);
    batch.relay(page, insertFrom("[relayed]"));
    await mine;
    await nextTick();
    expect(events.map((event) => event.origin.kind)).toEqual(["client", "peer", "relay"]);
    const peer = events[1]!.origin;
    if (peer.kind !== "peer") throw new Error("expected the peers' transaction");
    expect(peer.edits).toBe(5);
    expect([...peer.authors].sort()).toEqual(["Hodor", "Meera"]);
    for (const marker of ["[mine]", "[peer1]", "[peer2]", "[relayed]"]) expect(page.doc.getText("body").toString()).toContain(marker);
  });

  it("fails only the update that does not apply, and counts only those that did", async () => {
    const page = newPage();
    const events = record(page);
    const errors: Error[] = [];
    const batch = new TickBatcher(1 << 20, (_page, error) => errors.push(error));
    const good = batch.client(page, insertFrom("[good]"), 1, "Jon");
    const bad = batch.client(page, new Uint8Array([0xff, 0xff, 0xff, 0x01]), 2, "Ramsay");
    const alsoGood = batch.client(page, insertFrom("[also]"), 3, "Sam");
    await expect(good).resolves.toBeUndefined();
    await expect(bad).rejects.toThrow();
    await expect(alsoGood).resolves.toBeUndefined();
    expect(errors).toHaveLength(1);
    const origin = events[0]!.origin;
    if (origin.kind !== "client") throw new Error("expected the clients' transaction");
    expect(origin.edits).toBe(2);
    expect([...origin.connections]).toEqual([1, 3]);
    expect(page.doc.getText("body").toString()).toContain("[good]");
    expect(page.doc.getText("body").toString()).toContain("[also]");
  });

  it("an update handler that throws costs neither the acks nor the other pages of the tick", async () => {
    const failing = newPage();
    failing.doc.on("update", () => {
      throw new Error("the broker refused the publish");
    });
    const other = newPage();
    const errors: Error[] = [];
    const batch = new TickBatcher(1 << 20, (_page, error) => errors.push(error));
    const first = batch.client(failing, insertFrom("[one]"), 1, "Varys");
    const second = batch.client(other, insertFrom("[two]"), 2, "Varys");
    await expect(first).resolves.toBeUndefined();
    await expect(second).resolves.toBeUndefined();
    expect(failing.doc.getText("body").toString()).toBe("[one]");
    expect(other.doc.getText("body").toString()).toBe("[two]");
    expect(errors.map((error) => error.message)).toEqual(["the broker refused the publish"]);
  });

  it("applies followed PoP-log entries together, and advances the page's log sequence only over those applied", async () => {
    const page = newPage();
    const events = record(page);
    const batch = new TickBatcher(1 << 20, () => {});
    batch.log(page, insertFrom("[log 7]"), 7n);
    batch.log(page, insertFrom("[log 8]"), 8n);
    batch.log(page, new Uint8Array([0xff, 0xff, 0xff, 0x01]), 9n);
    expect(page.logSequence).toBe(0n);
    await nextTick();
    expect(page.logSequence).toBe(8n);
    expect(events).toHaveLength(1);
    expect(events[0]!.origin).toEqual({ kind: "log", edits: 2 });
  });

  it("applies a page's batch at once when its bytes reach the bound, so one fan-out update stays near it", () => {
    const page = newPage();
    const events = record(page);
    const batch = new TickBatcher(1000, () => {});
    void batch.client(page, insertFrom("x".repeat(600)), 1, "Hot Pie");
    expect(events).toHaveLength(0);
    void batch.client(page, insertFrom("y".repeat(600)), 2, "Hot Pie");
    // Over 1,000 bytes: applied in the caller, not at the next tick.
    expect(events).toHaveLength(1);
    expect(batch.holds(page)).toBe(false);
  });

  it("applies everything waiting on flush (before a drain or stop), and nothing to a closed page", async () => {
    const page = newPage();
    const batch = new TickBatcher(1 << 20, () => {});
    const applied = batch.client(page, insertFrom("[drained]"), 1, "Gendry");
    batch.flush();
    expect(page.doc.getText("body").toString()).toBe("[drained]");
    await applied;

    const closed = newPage();
    const lost = batch.client(closed, insertFrom("[late]"), 1, "Gendry");
    closed.destroy();
    await expect(lost).rejects.toThrow(/closed before the update was applied/);
  });
});
