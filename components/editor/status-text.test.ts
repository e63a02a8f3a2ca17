import { describe, expect, it } from "vitest";
import type { ProviderStatus } from "./provider";
import { describeStatus } from "./status-text";

const connected: ProviderStatus = {
  phase: "connected",
  pop: "us-east",
  replica: "us-east-a",
  synced: true,
  durability: "edge",
  canWrite: true,
  denied: undefined,
  unacknowledgedEdits: 0,
  uncommittedEdits: 0,
  acknowledgedAt: {},
  problem: undefined,
  attempts: 0,
  movedTo: undefined,
};

describe("the status line's words", () => {
  it("names the PoP and replica it is connected to", () => {
    expect(describeStatus(connected, undefined)).toEqual({ connection: "Connected to us-east · replica us-east-a", saving: "No changes yet", tone: "ok" });
  });

  it("says saving, then saved at the edge, then saved to the wiki with the time", () => {
    expect(describeStatus({ ...connected, unacknowledgedEdits: 3 }, undefined).saving).toBe("Saving 3 edits…");
    expect(describeStatus({ ...connected, acknowledgedAt: { edge: 1 } }, undefined).saving).toBe("Saved at the edge");
    expect(describeStatus({ ...connected, acknowledgedAt: { edge: 1, pop: 1 } }, undefined).saving).toBe("Saved at the edge · in the PoP's log");
    expect(describeStatus({ ...connected, acknowledgedAt: { edge: 1 } }, new Date(2026, 10, 22, 18, 2, 11)).saving).toBe(
      "Saved to the wiki at 18:02:11",
    );
  });

  it("counts the edits waiting while offline", () => {
    expect(describeStatus({ ...connected, phase: "offline", synced: false, unacknowledgedEdits: 1 }, undefined)).toMatchObject({
      connection: "Offline — 1 edit waiting",
      tone: "warn",
    });
    expect(describeStatus({ ...connected, phase: "offline", synced: false, unacknowledgedEdits: 12 }, undefined).connection).toBe(
      "Offline — 12 edits waiting",
    );
  });

  it("gives the edge's reason when writes are refused", () => {
    const text = describeStatus({ ...connected, canWrite: false, denied: "this page is protected" }, undefined);
    expect(text).toMatchObject({ saving: "Read-only: this page is protected", tone: "warn" });
  });
});
