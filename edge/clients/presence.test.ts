import * as awarenessProtocol from "y-protocols/awareness";
import { describe, expect, it } from "vitest";
import * as Y from "yjs";
import { PresenceGate, type PresenceResult, PresenceTooLargeError, removeOutdatedPresence } from "./presence";
import { readAwarenessEntries, writeAwarenessEntries } from "../../protocol/awareness";

const encode = (clientId: number, clock: number, state: unknown) =>
  writeAwarenessEntries([{ clientId, clock, state: new TextEncoder().encode(JSON.stringify(state)) }]);
const stateOf = (update: Uint8Array) => readAwarenessEntries(update).map((entry) => [entry.clientId, JSON.parse(new TextDecoder().decode(entry.state))]);

function gate(limits = { ratePerSecond: 20, burst: 2, maxStateBytes: 100 }) {
  const applied: Uint8Array[] = [];
  const counts: Record<PresenceResult, number> = { applied: 0, deferred: 0, superseded: 0 };
  const presence = new PresenceGate(limits, (update) => applied.push(update), (result, n) => (counts[result] += n));
  return { presence, applied, counts };
}

describe("the presence gate", () => {
  it("applies a burst at once, then holds the excess and applies only the newest state per client when the bucket refills", async () => {
    const { presence, applied, counts } = gate();
    for (let clock = 1; clock <= 6; clock++) presence.offer(encode(1, clock, { cursor: clock }));
    presence.offer(encode(2, 1, { cursor: 0 }));
    expect(applied.map(stateOf)).toEqual([[[1, { cursor: 1 }]], [[1, { cursor: 2 }]]]);
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(applied.slice(2).map(stateOf)).toEqual([[[1, { cursor: 6 }], [2, { cursor: 0 }]]]);
    expect(counts).toEqual({ applied: 3, deferred: 5, superseded: 3 });
    presence.stop();
  });

  it("refuses a state over the size limit before applying or holding anything", () => {
    const { presence, applied } = gate();
    expect(() => presence.offer(encode(3, 1, { name: "x".repeat(200) }))).toThrow(PresenceTooLargeError);
    expect(() => presence.offer(encode(3, 1, { name: "x".repeat(200) }))).toThrow(/client 3 is \d+ bytes, over the limit of 100/);
    expect(applied).toEqual([]);
  });

  it("drops what it holds when its connection closes", async () => {
    const { presence, applied } = gate({ ratePerSecond: 50, burst: 1, maxStateBytes: 100 });
    presence.offer(encode(1, 1, {}));
    presence.offer(encode(1, 2, {}));
    presence.stop();
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(applied).toHaveLength(1);
  });
});

describe("removing outdated presence", () => {
  it("removes the states not renewed within the timeout, and only those", () => {
    const page = new awarenessProtocol.Awareness(new Y.Doc());
    clearInterval(page._checkInterval);
    page.setLocalState(null);
    awarenessProtocol.applyAwarenessUpdate(page, encode(10, 1, { cursor: 1 }), "client");
    awarenessProtocol.applyAwarenessUpdate(page, encode(11, 1, { cursor: 2 }), "client");
    page.meta.get(10)!.lastUpdated -= 5000;
    const removed: number[] = [];
    page.on("update", ({ removed: ids }: { removed: number[] }) => removed.push(...ids));
    expect(removeOutdatedPresence(page, 3000)).toEqual([10]);
    expect(removed).toEqual([10]);
    expect([...page.getStates().keys()]).toEqual([11]);
    page.destroy();
  });
});
