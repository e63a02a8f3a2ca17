import { describe, expect, it } from "vitest";
import * as Y from "yjs";
import { createLogger } from "../common/logger";
import type { Slug } from "../common/slug";
import type { DurableLog, LogEntry } from "./broker/broker";
import { Page } from "./page";
import { PopLog, type PopLogHost } from "./pop-log";
import { encodeEnvelope } from "./protocol/envelope";
import { TickBatcher } from "./tick-batch";

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
  const data = encodeEnvelope({ type: "update", replica, slug: "Dragonstone", update: Y.encodeStateAsUpdate(doc), edits: 1, authors: ["Davos"] });
  return { sequence, subject: "ww.log", data };
}

describe("following the PoP's log", () => {
  it("an own entry does not move the page's sequence past a peer's entry still waiting for its tick", async () => {
    const page = new Page("Dragonstone" as Slug, { protection: "none", originVector: new Uint8Array([0]), revision: 0 });
    const batch = new TickBatcher(1 << 20, () => {});
    const host: PopLogHost = {
      replica: "me",
      openPage: async () => page,
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
