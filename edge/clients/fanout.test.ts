import * as awarenessProtocol from "y-protocols/awareness";
import { afterEach, describe, expect, it } from "vitest";
import * as Y from "yjs";
import type { Slug } from "../../common/slug";
import { Fanout, stateVectorWithout } from "./fanout";
import type { FramedWindow } from "./frames";
import { Page, type PageClient } from "../pages/page";
import { decodeMessage } from "../../protocol/messages";

/** A page client that keeps what it is handed, and can pretend to fall behind. */
class Receiver implements PageClient {
  readonly windows: FramedWindow[] = [];
  skippedFrom: Uint8Array | undefined;
  behind = false;
  readonly edited = false;
  constructor(readonly id: number) {}
  send(): void {
    throw new Error("fan-out sends windows, never single messages");
  }
  deliver(window: FramedWindow, stateVectorBefore: () => Uint8Array): void {
    if (this.behind) {
      this.skippedFrom ??= stateVectorBefore();
      return;
    }
    this.windows.push(window);
  }
  get messages(): Uint8Array[] {
    return this.windows.flatMap((window) => window.messages);
  }
  updates(): Uint8Array[] {
    return this.messages.map((bytes) => decodeMessage(bytes)).flatMap((message) => (message.type === "update" ? [message.update] : []));
  }
}

/** Logs each window it is handed, in the order the fan-out writes them. */
class LoggingReceiver extends Receiver {
  constructor(
    id: number,
    private readonly log: string[],
  ) {
    super(id);
  }
  override deliver(window: FramedWindow, stateVectorBefore: () => Uint8Array): void {
    this.log.push(`deliver ${this.id}`);
    super.deliver(window, stateVectorBefore);
  }
}

const pages: Page[] = [];
function pageWith(receivers: Receiver[]): Page {
  const page = new Page("Winterfell" as Slug, { protection: "none", originVector: new Uint8Array([0]), revision: 0 });
  for (const receiver of receivers) page.clients.add(receiver);
  pages.push(page);
  return page;
}
afterEach(() => {
  for (const page of pages.splice(0)) page.destroy();
});

/** Wires a page's doc and awareness to a fan-out, as the replica does. */
function wire(page: Page, fanout: Fanout): void {
  page.doc.on("update", (update: Uint8Array, origin: unknown) => fanout.update(page, update, typeof origin === "number" ? [origin] : undefined));
  page.awareness.on("update", ({ added, updated, removed }: { added: number[]; updated: number[]; removed: number[] }) =>
    fanout.awareness(page, [...added, ...updated, ...removed], true),
  );
}

/** `count` edits from as many writers, applied to `page` with the writer's number as origin. */
function edits(page: Page, count: number): Y.Doc[] {
  const writers = Array.from({ length: count }, () => new Y.Doc());
  for (const [i, writer] of writers.entries()) {
    writer.on("update", (update: Uint8Array) => Y.applyUpdate(page.doc, update, 1000 + i));
    writer.getText("body").insert(0, `[w${i}]`);
  }
  return writers;
}

/** Past a window's end, and past the turn of the event loop that writes it to the clients (setImmediate's phase). */
const waitWindow = (ms: number) => new Promise((resolve) => setTimeout(() => setImmediate(resolve), ms + 5));

describe("coalesced fan-out", () => {
  it("each client gets one update message per window whatever the edit rate, the same buffer for all", async () => {
    const receivers = [new Receiver(1), new Receiver(2), new Receiver(3)];
    const page = pageWith(receivers);
    const fanout = new Fanout({ windowMs: 20, maxBytes: 1 << 20, publishUpdates: () => {}, publishAwareness: () => {} });
    wire(page, fanout);
    edits(page, 500);
    expect(receivers[0]!.messages).toHaveLength(0);
    await waitWindow(20);
    for (const receiver of receivers) expect(receiver.messages).toHaveLength(1);
    expect(receivers[1]!.windows[0]!.frames).toBe(receivers[0]!.windows[0]!.frames);
    const replica = new Y.Doc();
    Y.applyUpdate(replica, receivers[2]!.updates()[0]!);
    expect(replica.getText("body").toString()).toBe(page.doc.getText("body").toString());
  });

  it("a window past its byte bound is sent at once, each message at most the bound plus one update", () => {
    const receivers = [new Receiver(1)];
    const page = pageWith(receivers);
    const fanout = new Fanout({ windowMs: 1000, maxBytes: 2000, publishUpdates: () => {}, publishAwareness: () => {} });
    wire(page, fanout);
    const writer = new Y.Doc();
    writer.on("update", (update: Uint8Array) => Y.applyUpdate(page.doc, update, 7));
    for (let i = 0; i < 50; i++) writer.getText("body").insert(0, `[${i}]${"y".repeat(300)}`);
    fanout.stop();
    const sizes = receivers[0]!.messages.map((message) => message.byteLength);
    expect(sizes.length).toBeGreaterThan(5);
    for (const size of sizes) expect(size).toBeLessThan(2000 + 400);
    const replica = new Y.Doc();
    for (const update of receivers[0]!.updates()) Y.applyUpdate(replica, update);
    expect(replica.getText("body").toString()).toBe(writer.getText("body").toString());
  });

  it("a lone sender is spared its own echo; with two senders in a window, everyone gets the merge", async () => {
    const receivers = [new Receiver(1), new Receiver(2)];
    const page = pageWith(receivers);
    const fanout = new Fanout({ windowMs: 5, maxBytes: 1 << 20, publishUpdates: () => {}, publishAwareness: () => {} });
    wire(page, fanout);
    Y.applyUpdate(page.doc, Y.encodeStateAsUpdate(withText("[one]")), 1);
    await waitWindow(5);
    expect(receivers.map((receiver) => receiver.messages.length)).toEqual([0, 1]);
    Y.applyUpdate(page.doc, Y.encodeStateAsUpdate(withText("[two]")), 1);
    Y.applyUpdate(page.doc, Y.encodeStateAsUpdate(withText("[three]")), 2);
    await waitWindow(5);
    expect(receivers.map((receiver) => receiver.messages.length)).toEqual([1, 2]);
  });

  it("the updates this replica's clients made in a window reach the peers once, merged, with their authors and edits; the rest not at all", async () => {
    const receivers = [new Receiver(1)];
    const page = pageWith(receivers);
    const shared: { update: Uint8Array; authors: string[]; edits: number }[] = [];
    const fanout = new Fanout({ windowMs: 20, maxBytes: 1 << 20, publishAwareness: () => {}, publishUpdates: (_page, update, authors, edits) => shared.push({ update, authors, edits }) });
    page.doc.on("update", (update: Uint8Array, origin: unknown) => {
      const client = typeof origin === "number" ? origin : undefined;
      fanout.update(page, update, client === undefined ? undefined : [client], client === undefined ? undefined : { authors: [`Writer${client % 2}`], edits: 2 });
    });
    const writers = edits(page, 30);
    // A peer's update: shown to the clients, not shared again.
    Y.applyUpdate(page.doc, Y.encodeStateAsUpdate(withText("[peer]")), "peer");
    expect(shared).toHaveLength(0);
    await waitWindow(20);
    expect(shared).toHaveLength(1);
    expect(shared[0]!.edits).toBe(60);
    expect(shared[0]!.authors.sort()).toEqual(["Writer0", "Writer1"]);
    const peer = new Y.Doc();
    Y.applyUpdate(peer, shared[0]!.update);
    const text = peer.getText("body").toString();
    for (const [i] of writers.entries()) expect(text).toContain(`[w${i}]`);
    expect(text).not.toContain("[peer]");
    // A window with clients' updates only shares what the clients got.
    writers[0]!.getText("body").insert(0, "[again]");
    await waitWindow(20);
    expect(shared).toHaveLength(2);
    expect(receivers[0]!.updates().at(-1)).toEqual(shared[1]!.update);
  });

  it("presence changes of a window go out once, newest state per client, and once to the peers", async () => {
    const receivers = [new Receiver(1)];
    const page = pageWith(receivers);
    const published: Uint8Array[] = [];
    const fanout = new Fanout({ windowMs: 10, maxBytes: 1 << 20, publishUpdates: () => {}, publishAwareness: (_page, update) => published.push(update) });
    wire(page, fanout);
    const editor = new awarenessProtocol.Awareness(new Y.Doc());
    clearInterval(editor._checkInterval);
    for (let position = 0; position < 100; position++) {
      editor.setLocalStateField("cursor", position);
      awarenessProtocol.applyAwarenessUpdate(page.awareness, awarenessProtocol.encodeAwarenessUpdate(editor, [editor.clientID]), "client");
    }
    await waitWindow(10);
    expect(receivers[0]!.messages).toHaveLength(1);
    expect(published).toHaveLength(1);
    const seen = new awarenessProtocol.Awareness(new Y.Doc());
    clearInterval(seen._checkInterval);
    const message = decodeMessage(receivers[0]!.messages[0]!);
    if (message.type !== "awareness") throw new Error(`expected an awareness message, got ${message.type}`);
    awarenessProtocol.applyAwarenessUpdate(seen, message.update, "edge");
    expect(seen.getStates().get(editor.clientID)).toEqual({ cursor: 99 });
    editor.destroy();
    seen.destroy();
  });

  it("a client that skips a window catches up exactly from the state vector it was handed", async () => {
    const behind = new Receiver(2);
    const page = pageWith([new Receiver(1), behind]);
    const fanout = new Fanout({ windowMs: 5, maxBytes: 1 << 20, publishUpdates: () => {}, publishAwareness: () => {} });
    wire(page, fanout);
    const client = new Y.Doc();
    edits(page, 10);
    await waitWindow(5);
    for (const update of behind.updates()) Y.applyUpdate(client, update);
    behind.behind = true;
    edits(page, 10);
    await waitWindow(5);
    edits(page, 10);
    await waitWindow(5);
    // It skipped the second and third windows: the vector is from before the second.
    Y.applyUpdate(client, Y.encodeStateAsUpdate(page.doc, behind.skippedFrom));
    expect(client.getText("body").toString()).toBe(page.doc.getText("body").toString());
    expect(Y.encodeStateAsUpdate(page.doc, behind.skippedFrom).byteLength).toBeLessThan(Y.encodeStateAsUpdate(page.doc).byteLength);
  });

  it("an ack due in the turn a window closes goes out before any of the window's writes", async () => {
    const log: string[] = [];
    const receivers = Array.from({ length: 50 }, (_, i) => new LoggingReceiver(i, log));
    const page = pageWith(receivers);
    const fanout = new Fanout({ windowMs: 1000, maxBytes: 100, publishUpdates: () => {}, publishAwareness: () => {} });
    wire(page, fanout);
    // Past the byte bound: the window closes inside the update handler, as in the tick's transaction.
    Y.applyUpdate(page.doc, Y.encodeStateAsUpdate(withText(`[${"x".repeat(200)}]`)), "peer");
    // The tick's acks are settled in microtasks after its transaction.
    void Promise.resolve().then(() => log.push("ack"));
    await new Promise((resolve) => setTimeout(resolve, 0));
    await new Promise((resolve) => setImmediate(resolve));
    expect(log).toHaveLength(51);
    expect(log[0]).toBe("ack");
  });

  it("a fan-out to more clients than a turn's writes yields, so what the loop handles meanwhile is not behind all of it", async () => {
    const log: string[] = [];
    const receivers = Array.from({ length: 1000 }, (_, i) => new LoggingReceiver(i, log));
    const page = pageWith(receivers);
    const fanout = new Fanout({ windowMs: 1000, maxBytes: 100, writesPerTurn: 100, publishAwareness: () => {}, publishUpdates: () => {} });
    wire(page, fanout);
    Y.applyUpdate(page.doc, Y.encodeStateAsUpdate(withText(`[${"x".repeat(200)}]`)), "peer");
    // Stands for the next tick's batch of updates read while the fan-out is under way, and their acks.
    setImmediate(() => log.push("next tick"));
    while (log.length < 1001) await new Promise((resolve) => setImmediate(resolve));
    const at = log.indexOf("next tick");
    expect(at).toBeGreaterThan(0);
    expect(at).toBeLessThanOrEqual(100);
    // Every client got the window once, in order.
    expect(log.filter((entry) => entry !== "next tick")).toEqual(receivers.map((receiver) => `deliver ${receiver.id}`));
  });

  it("a client that pauses on a window still being written catches up from before it, though the page moved on meanwhile", async () => {
    const receivers = Array.from({ length: 300 }, (_, i) => new Receiver(i));
    const last = receivers.at(-1)!;
    const page = pageWith(receivers);
    const fanout = new Fanout({ windowMs: 1000, maxBytes: 100, writesPerTurn: 100, publishAwareness: () => {}, publishUpdates: () => {} });
    wire(page, fanout);
    const client = new Y.Doc();
    Y.applyUpdate(page.doc, Y.encodeStateAsUpdate(withText(`[first ${"x".repeat(200)}]`)), 7);
    last.behind = true;
    // Another writer's edit lands before the window reached the last client; it goes in the next window, which the paused client also skips.
    await new Promise((resolve) => setImmediate(resolve));
    Y.applyUpdate(page.doc, Y.encodeStateAsUpdate(withText(`[second ${"y".repeat(200)}]`)), 8);
    fanout.stop();
    Y.applyUpdate(client, Y.encodeStateAsUpdate(page.doc, last.skippedFrom));
    expect(client.getText("body").toString()).toBe(page.doc.getText("body").toString());
  });

  it("a crowded page's window grows with its clients to keep its writes per second near the budget, within bounds", () => {
    const fanout = new Fanout({ windowMs: 5, maxWindowMs: 25, sendsPerSecond: 20_000, maxBytes: 1 << 20, publishAwareness: () => {}, publishUpdates: () => {} });
    const crowd = (clients: number) => pageWith(Array.from({ length: clients }, (_, i) => new Receiver(i)));
    expect(fanout.windowOf(crowd(3))).toBe(5);
    expect(fanout.windowOf(crowd(250))).toBe(13);
    expect(fanout.windowOf(crowd(5000))).toBe(25);
    // Without a budget the window stays fixed.
    expect(new Fanout({ windowMs: 5, maxBytes: 1 << 20, publishUpdates: () => {}, publishAwareness: () => {} }).windowOf(crowd(5000))).toBe(5);
  });
});

describe("stateVectorWithout", () => {
  it("is never ahead of a doc that missed the update, so the diff against it completes that doc", () => {
    for (let round = 0; round < 50; round++) {
      const page = new Y.Doc();
      const writers = Array.from({ length: 1 + (round % 5) }, () => new Y.Doc());
      const lagging = new Y.Doc();
      const missed: Uint8Array[] = [];
      let collecting = false;
      page.on("update", (update: Uint8Array) => {
        if (collecting) missed.push(update);
        else Y.applyUpdate(lagging, update);
      });
      for (let step = 0; step < 40; step++) {
        collecting = step >= 20;
        const writer = writers[Math.floor(Math.random() * writers.length)]!;
        Y.applyUpdate(writer, Y.encodeStateAsUpdate(page));
        const text = writer.getText("body");
        if (text.length > 3 && Math.random() < 0.3) text.delete(Math.floor(Math.random() * (text.length - 2)), 2);
        else text.insert(Math.floor(Math.random() * (text.length + 1)), `[r${round}s${step}]`);
        Y.applyUpdate(page, Y.encodeStateAsUpdate(writer));
      }
      const vector = stateVectorWithout(page, Y.mergeUpdates(missed));
      Y.applyUpdate(lagging, Y.encodeStateAsUpdate(page, vector));
      expect(lagging.getText("body").toString()).toBe(page.getText("body").toString());
    }
  });
});

function withText(text: string): Y.Doc {
  const doc = new Y.Doc();
  doc.getText("body").insert(0, text);
  return doc;
}
