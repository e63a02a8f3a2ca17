import { describe, expect, it } from "vitest";
import type { FlushAnswer, FlushBatch } from "./protocol/flush";
import { writeThrough } from "./durability";
import type { OriginClient } from "./origin-client";
import { Page } from "./page";

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
  };
  return { origin, pending };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));
const page = (slug: string) => new Page(slug as never, { protection: "none", originVector: new Uint8Array([0]), revision: 0 });

describe("write-through", () => {
  it("sends one page's writes one at a time and in order, other pages' at once", async () => {
    const { origin, pending } = heldOrigin();
    const durable = writeThrough(origin, "us-east", "us-east-a");
    const [red, black] = [page("Red_Wedding"), page("Blackwater")];
    const acks = [durable(red, new Uint8Array([1]), "Arya"), durable(red, new Uint8Array([2]), "Arya"), durable(black, new Uint8Array([3]), "Sansa")];
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

  it("a failed write fails its own acknowledgement only; the next write of the page still goes", async () => {
    const { origin, pending } = heldOrigin();
    const durable = writeThrough(origin, "us-east", "us-east-a");
    const red = page("Red_Wedding");
    const first = durable(red, new Uint8Array([1]), "Arya");
    const second = durable(red, new Uint8Array([2]), "Arya");
    await tick();
    pending[0]!.fail();
    await expect(first).rejects.toThrow("origin down");
    await tick();
    expect(pending).toHaveLength(2);
    pending[1]!.answer();
    await expect(second).resolves.toBe("origin");
  });
});
