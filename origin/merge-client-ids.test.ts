import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as Y from "yjs";
import type { Slug } from "../common/slug";
import { type FlushAnswer, type FlushBatch, fromBase64, toBase64 } from "../protocol/flush";
import { testDatabases } from "../tests/support/databases";
import { startTestOrigin, type TestOrigin } from "../tests/support/origin";
import { handleFlush } from "./http/flush";
import { readPageState } from "./page-state";

/**
 * Issue 18 at the origin, where the PoPs meet: a flush's structs under a
 * client id the origin knows as another user's, or with other content at
 * clocks it holds, are left out of the merge; the rest lands, and the
 * answer tells the sender the origin's claims.
 */
function typedUnder(clientID: number, text: string, base?: Uint8Array): Uint8Array {
  const doc = new Y.Doc();
  if (base) Y.applyUpdate(doc, base);
  doc.clientID = clientID;
  const before = Y.encodeStateVector(doc);
  doc.getText("body").insert(doc.getText("body").length, text);
  return Y.encodeStateAsUpdate(doc, before);
}

function batch(pages: { slug: string; update: Uint8Array; claims: [number, string][] }[]): FlushBatch {
  return {
    batchId: `test-${randomUUID()}`,
    pop: "test",
    edge: "test-a",
    pages: pages.map(({ slug, update, claims }) => {
      const doc = new Y.Doc();
      Y.applyUpdate(doc, update);
      return { slug, update: toBase64(update), stateVector: toBase64(Y.encodeStateVector(doc)), editCount: 1, authors: claims.map(([, user]) => user), claims };
    }),
  };
}

describe.each(testDatabases)("client ids at the origin's merge on $name", (kind) => {
  let origin: TestOrigin;
  beforeAll(async () => {
    origin = await startTestOrigin(kind);
  });
  afterAll(() => origin?.close());

  async function flush(body: FlushBatch): Promise<FlushAnswer> {
    const response = await handleFlush(origin, new Request("http://origin.test/api/internal/flush", { method: "POST", headers: origin.edgeHeaders, body: JSON.stringify(body) }));
    expect(response.status, await response.clone().text()).toBe(200);
    return (await response.json()) as FlushAnswer;
  }

  async function text(slug: string): Promise<string> {
    const doc = new Y.Doc();
    Y.applyUpdate(doc, fromBase64((await readPageState(origin.db.prisma, slug as Slug)).state));
    return doc.getText("body").toString();
  }

  it("other content under a held (client, clock) is left out; the page's other structs and the batch's other pages land", async () => {
    const [slug, other] = [`Conflict_${randomUUID().slice(0, 6)}`, `Bystander_${randomUUID().slice(0, 6)}`];
    await flush(batch([{ slug, update: typedUnder(5, "winter"), claims: [[5, "Arya"]] }]));
    const second = Y.mergeUpdates([typedUnder(5, "summer!"), typedUnder(6, "!", typedUnder(5, "winter"))]);
    const answer = await flush(
      batch([
        { slug, update: second, claims: [[5, "Arya"], [6, "Sansa"]] },
        { slug: other, update: typedUnder(7, "unharmed"), claims: [[7, "Bran"]] },
      ]),
    );
    expect(await text(slug)).toBe("winter!");
    expect(await text(other)).toBe("unharmed");
    // What the sender lacks comes back with its claim, so the sender learns whose id 5 is.
    expect(answer.pages[0]!.claims).toEqual(expect.arrayContaining([[5, "Arya"]]));
  });

  it("new structs under another user's client id are left out, and the page's state names the first claim", async () => {
    const slug = `Claimed_${randomUUID().slice(0, 6)}`;
    const first = typedUnder(9, "a girl");
    await flush(batch([{ slug, update: first, claims: [[9, "Arya"]] }]));
    const answer = await flush(batch([{ slug, update: typedUnder(9, " has no name", first), claims: [[9, "Jaqen"]] }]));
    expect(await text(slug)).toBe("a girl");
    expect(answer.pages[0]!.claims).toEqual([[9, "Arya"]]);
    expect((await readPageState(origin.db.prisma, slug as Slug)).claims).toEqual([[9, "Arya"]]);
    // The owner goes on.
    await flush(batch([{ slug, update: typedUnder(9, " has no name", first), claims: [[9, "Arya"]] }]));
    expect(await text(slug)).toBe("a girl has no name");
  });

  it("counts what it left out in its metrics", async () => {
    const metrics = await origin.metrics.registry.getSingleMetricAsString("weirwood_origin_client_id_refusals_total");
    expect(metrics).toMatch(/reason="conflict"[^\n]* [1-9]/);
    expect(metrics).toMatch(/reason="claimed"[^\n]* [1-9]/);
  });
});
