import { describe, expect, it } from "vitest";
import type { FlushAnswer, FlushBatch } from "../../protocol/flush";
import { writeThrough } from "./durability";
import type { OriginClient } from "../origin-sync/origin-client";
import { Page } from "../pages/page";

/** An origin that answers each flush when told to, so that the test sees what is in flight at once. */
function heldOrigin() {
  const pending: { batch: FlushBatch; answer(): void; fail(): void }[] = [];
  const origin: OriginClient = {
    calls: { flush: 0, pageState: 0 },
    flush: (batch) =>
      new Promise<FlushAnswer>((resolve, reject) => {
        pending.push({ batch, answer: () => resolve({ batchId: batch.batchId, duplicate: false, pages: [] }), fail: () => reject(new Error("origin down")) });
      }),
    pageState: () => Promise.reject(new Error("not used")),
    blocks: () => Promise.reject(new Error("not used")),
    deletedPages: () => Promise.reject(new Error("not used")),
  };
  return { origin, pending };
}

const applied = Promise.resolve();
const tick = () => new Promise((resolve) => setTimeout(resolve, 0));
/** A page holding edits the origin does not have (as a page is once a client's update is applied). */
function page(slug: string): Page {
  const held = new Page(slug as never, { protection: "none", originVector: new Uint8Array([0]), revision: 0 });
  held.markDirty(1, 1);
  return held;
}

describe("write-through", () => {
  it("sends one page's writes one at a time and in order, other pages' at once", async () => {
    const { origin, pending } = heldOrigin();
    const durable = writeThrough(origin, "us-east", "us-east-a");
    const [red, black] = [page("Red_Wedding"), page("Blackwater")];
    const acks = [
      durable.update(red, new Uint8Array([1]), "Arya", applied),
      durable.update(red, new Uint8Array([2]), "Arya", applied),
      durable.update(black, new Uint8Array([3]), "Sansa", applied),
    ];
    await tick();
    expect(pending.map((call) => call.batch.pages[0]!.slug)).toEqual(["Red_Wedding", "Blackwater"]);
    pending[0]!.answer();
    await expect(acks[0]).resolves.toBe("origin");
    await tick();
    expect(pending.map((call) => call.batch.pages[0]!.slug)).toEqual(["Red_Wedding", "Blackwater", "Red_Wedding"]);
    pending[1]!.answer();
    pending[2]!.answer();
    await expect(Promise.all(acks)).resolves.toEqual(["origin", "origin", "origin"]);
  });

  it("a failed write fails its own acknowledgement, and is written again before the page's next one", async () => {
    const { origin, pending } = heldOrigin();
    const durable = writeThrough(origin, "us-east", "us-east-a");
    const red = page("Red_Wedding");
    const first = durable.update(red, new Uint8Array([1]), "Arya", applied);
    const second = durable.update(red, new Uint8Array([2]), "Arya", applied);
    await tick();
    pending[0]!.fail();
    await expect(first).rejects.toThrow("origin down");
    await tick();
    pending[1]!.answer();
    await tick();
    // The second update is committed, but the first, which the page holds too, is not yet.
    expect(pending.map((call) => call.batch.pages[0]!.update)).toEqual(["AQ==", "Ag==", "AQ=="]);
    let acknowledged = false;
    void second.then(() => (acknowledged = true));
    await tick();
    expect(acknowledged).toBe(false);
    pending[2]!.answer();
    await expect(second).resolves.toBe("origin");
  });

  it("a resend that changes nothing is acknowledged only once the failed write it repeats is committed", async () => {
    const { origin, pending } = heldOrigin();
    const durable = writeThrough(origin, "us-east", "us-east-a");
    const red = page("Red_Wedding");
    const first = durable.update(red, new Uint8Array([1]), "Arya", applied);
    await tick();
    pending[0]!.fail();
    await expect(first).rejects.toThrow("origin down");
    const resend = durable.unchanged(red);
    await tick();
    expect(pending).toHaveLength(2);
    pending[1]!.fail();
    await expect(resend).rejects.toThrow("origin down");
    const again = durable.unchanged(red);
    await tick();
    pending[2]!.answer();
    await expect(again).resolves.toBe("origin");
    // Written: nothing left to write for the next resend.
    await expect(durable.unchanged(red)).resolves.toBe("origin");
    expect(pending).toHaveLength(3);
  });

  it("a failed write that an origin commit of the page covered is not written again", async () => {
    const { origin, pending } = heldOrigin();
    const durable = writeThrough(origin, "us-east", "us-east-a");
    const red = page("Red_Wedding");
    const first = durable.update(red, new Uint8Array([1]), "Arya", applied);
    await tick();
    pending[0]!.fail();
    await expect(first).rejects.toThrow("origin down");
    red.markFlushed(red.dirtyGeneration);
    await expect(durable.unchanged(red)).resolves.toBe("origin");
    expect(pending).toHaveLength(1);
  });

  it("a resend that arrives while the first delivery's write is in flight waits for that write", async () => {
    const { origin, pending } = heldOrigin();
    const durable = writeThrough(origin, "us-east", "us-east-a");
    const red = page("Red_Wedding");
    const first = durable.update(red, new Uint8Array([1]), "Arya", applied);
    await tick();
    let acknowledged = false;
    const resend = durable.unchanged(red).then((level) => ((acknowledged = true), level));
    await tick();
    expect(acknowledged).toBe(false);
    expect(pending).toHaveLength(1);
    pending[0]!.answer();
    await expect(resend).resolves.toBe("origin");
    await expect(first).resolves.toBe("origin");
  });
});
