import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as Y from "yjs";
import { type FlushAnswer, type FlushBatch, fromBase64, pageStateSchema, toBase64 } from "../protocol/flush";
import { testDatabases } from "../tests/support/databases";
import { startTestOrigin, type TestOrigin } from "../tests/support/origin";
import { handleFlush } from "./http/flush";
import { handleMetrics } from "./http/metrics";
import { handlePageState } from "./http/page-state";
import { total } from "./ops/aggregate";
import { parseMetricsText } from "./ops/metrics-text";
import { readPageState } from "./page-state";
import { getPage } from "./pages";
import { refreshAllPages } from "./text-refresh";
import type { Slug } from "../common/slug";

/** A PoP's view of a page, as an edge would hold it. */
function edgeDoc(clientID: number): Y.Doc {
  const doc = new Y.Doc();
  doc.clientID = clientID;
  return doc;
}

function batchOf(pop: string, pages: { slug: string; doc: Y.Doc; since?: Uint8Array; edits?: number }[]): FlushBatch {
  return {
    batchId: `${pop}-${randomUUID()}`,
    pop,
    edge: `${pop}-a`,
    pages: pages.map(({ slug, doc, since, edits = 1 }) => ({
      slug,
      update: toBase64(Y.encodeStateAsUpdate(doc, since)),
      stateVector: toBase64(Y.encodeStateVector(doc)),
      editCount: edits,
      authors: ["Arya"],
    })),
  };
}

function flushRequest(origin: TestOrigin, body: unknown, headers: Record<string, string> = origin.edgeHeaders): Request {
  return new Request("http://origin.test/api/internal/flush", {
    method: "POST",
    headers,
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

async function flush(origin: TestOrigin, batch: FlushBatch): Promise<FlushAnswer> {
  const response = await handleFlush(origin, flushRequest(origin, batch));
  expect(response.status, await response.clone().text()).toBe(200);
  return (await response.json()) as FlushAnswer;
}

async function counts(origin: TestOrigin) {
  const prisma = origin.db.prisma;
  return {
    pages: await prisma.page.count(),
    revisions: await prisma.revision.count(),
    batches: await prisma.batch.count(),
    links: await prisma.link.count(),
  };
}

describe.each(testDatabases)("batch merge on $name", (kind) => {
  let origin: TestOrigin;
  beforeAll(async () => {
    origin = await startTestOrigin(kind);
  });
  afterAll(async () => {
    await origin?.close();
  });

  it("announces a resent batch's pages again, in case the first announcement died with the origin", async () => {
    const announced: { pop: string; slugs: string[] }[] = [];
    const listen = (commit: { pop: string; slugs: string[] }) => void announced.push(commit);
    origin.committed.add(listen);
    try {
      const doc = edgeDoc(4242);
      doc.getText("body").insert(0, "The Red Wedding.");
      const batch = batchOf("us-east", [{ slug: "Announced_twice", doc }]);
      expect((await flush(origin, batch)).duplicate).toBe(false);
      expect((await flush(origin, batch)).duplicate).toBe(true);
      expect(announced).toEqual([
        { pop: "us-east", slugs: ["Announced_twice"] },
        { pop: "us-east", slugs: ["Announced_twice"] },
      ]);
    } finally {
      origin.committed.delete(listen);
    }
  });

  it("appends the flush, then refreshes the page's text, links and a revision with its edit count and authors", async () => {
    const slug = `Page_${randomUUID().slice(0, 8)}`;
    const doc = edgeDoc(1);
    doc.getText("body").insert(0, "Winter is coming. See [[Jon Snow]].");
    await flush(origin, batchOf("us-east", [{ slug, doc, edits: 7 }]));

    const appended = await origin.db.prisma.pageUpdate.findMany({ where: { page: { slug } } });
    expect(appended.map(({ seq, editCount, authors, pop }) => ({ seq, editCount, authors, pop }))).toEqual([
      { seq: 1n, editCount: 7, authors: ["Arya"], pop: "us-east" },
    ]);
    const state = await readPageState(origin.db.prisma, slug as Slug);
    expect(Buffer.from(state.stateVector, "base64")).toEqual(Buffer.from(Y.encodeStateVector(doc)));
    // Read before the refresh: the page's text already holds the flush.
    expect((await getPage(origin.db.prisma, { slug: slug as Slug })).text).toBe("Winter is coming. See [[Jon Snow]].");

    await refreshAllPages(origin.db.prisma);
    const page = await origin.db.prisma.page.findUniqueOrThrow({ where: { slug }, include: { revisions: true, links: true } });
    expect(page.text).toBe("Winter is coming. See [[Jon Snow]].");
    expect(page.title).toBe(slug.replaceAll("_", " "));
    expect(page.revisions).toHaveLength(1);
    expect(page.revisions[0]).toMatchObject({ number: 1, editCount: 7, authors: ["Arya"], pops: ["us-east"] });
    expect(page.links.map((link) => link.toSlug)).toEqual(["Jon_Snow"]);
  });

  it("a batch applied twice leaves exactly one revision", async () => {
    const slug = `Twice_${randomUUID().slice(0, 8)}`;
    const doc = edgeDoc(2);
    doc.getText("body").insert(0, "The North remembers.");
    const batch = batchOf("eu-west", [{ slug, doc }]);

    const first = await flush(origin, batch);
    const before = await counts(origin);
    const second = await flush(origin, batch);

    expect(first.duplicate).toBe(false);
    expect(second.duplicate).toBe(true);
    expect(await counts(origin)).toEqual(before);
    await refreshAllPages(origin.db.prisma);
    const page = await origin.db.prisma.page.findUniqueOrThrow({ where: { slug }, include: { revisions: true } });
    expect(page.revisions).toHaveLength(1);
    expect(page.revisionCount).toBe(1);
    expect(second.pages[0]?.revision).toBe(1);
  });

  it("a batch with nothing new adds no revision", async () => {
    const slug = `Same_${randomUUID().slice(0, 8)}`;
    const doc = edgeDoc(3);
    doc.getText("body").insert(0, "Hodor.");
    await flush(origin, batchOf("us-east", [{ slug, doc }]));
    await flush(origin, batchOf("us-east", [{ slug, doc }]));
    expect(await origin.db.prisma.pageUpdate.count({ where: { page: { slug } } })).toBe(1);
    await refreshAllPages(origin.db.prisma);
    expect(await origin.db.prisma.revision.count({ where: { page: { slug } } })).toBe(1);
  });

  it("a first batch that changes nothing creates no page", async () => {
    const slug = `Empty_${randomUUID().slice(0, 8)}`;
    const answer = await flush(origin, batchOf("us-east", [{ slug, doc: edgeDoc(4), edits: 0 }]));
    expect(answer.pages[0]?.revision).toBe(0);
    expect(await origin.db.prisma.page.findUnique({ where: { slug } })).toBeNull();
  });

  it.each([
    ["us-east first", ["us-east", "eu-west"]],
    ["eu-west first", ["eu-west", "us-east"]],
  ])(
    "concurrent edits from two PoPs merge to the same text (%s) and each sender gets exactly what it lacks",
    async (_label, order) => {
      const slug = `Concurrent_${randomUUID().slice(0, 8)}`;
      // Both PoPs start from the same committed page...
      const seed = edgeDoc(10);
      seed.getText("body").insert(0, "Red Wedding.");
      await flush(origin, batchOf("seed", [{ slug, doc: seed }]));
      const committed = Y.encodeStateVector(seed);
      const docs: Record<string, Y.Doc> = { "us-east": edgeDoc(11), "eu-west": edgeDoc(12) };
      for (const doc of Object.values(docs)) Y.applyUpdate(doc, Y.encodeStateAsUpdate(seed));
      // ...then edit it concurrently, neither seeing the other.
      docs["us-east"]!.getText("body").insert(0, "Robb Stark. ");
      docs["eu-west"]!.getText("body").insert(12, " The Rains of Castamere.");
      docs["eu-west"]!.getText("body").delete(0, 4);

      const answers: Record<string, FlushAnswer> = {};
      for (const pop of order) {
        answers[pop] = await flush(origin, batchOf(pop, [{ slug, doc: docs[pop]!, since: committed }]));
      }
      for (const pop of order) {
        const missing = fromBase64(answers[pop]!.pages[0]!.missing);
        // Nothing the sender already had comes back to it.
        const senderVector = Y.decodeStateVector(Y.encodeStateVector(docs[pop]!));
        for (const struct of Y.decodeUpdate(missing).structs) {
          expect(struct.id.clock).toBeGreaterThanOrEqual(senderVector.get(struct.id.client) ?? 0);
        }
        Y.applyUpdate(docs[pop]!, missing);
      }
      // The first sender learns the second's edit at its next flush.
      const [first] = order as [string, string];
      const catchUp = await flush(origin, batchOf(first, [{ slug, doc: docs[first]!, since: Y.encodeStateVector(docs[first]!) }]));
      Y.applyUpdate(docs[first]!, fromBase64(catchUp.pages[0]!.missing));

      const expected = (await getPage(origin.db.prisma, { slug: slug as Slug })).text;
      expect(expected).toContain("Robb Stark. ");
      expect(expected).toContain(" The Rains of Castamere.");
      expect(docs["us-east"]!.getText("body").toString()).toBe(expected);
      expect(docs["eu-west"]!.getText("body").toString()).toBe(expected);
    },
  );

  it("a page's state since a state vector holds what that vector lacks, and a bad vector gets a 400", async () => {
    const slug = `Since_${randomUUID().slice(0, 8)}`;
    const us = edgeDoc(31);
    us.getText("body").insert(0, "Winter is coming. ");
    await flush(origin, batchOf("us-east", [{ slug, doc: us }]));
    const held = Y.encodeStateVector(us);
    const them = edgeDoc(32);
    Y.applyUpdate(them, Y.encodeStateAsUpdate(us));
    them.getText("body").insert(0, "The North remembers. ");
    them.getText("body").delete(18, 6);
    await flush(origin, batchOf("eu-west", [{ slug, doc: them, since: held }]));

    const state = async (query: string) => {
      const response = await handlePageState(origin, new Request(`http://origin.test/api/internal/pages/${slug}/state${query}`, { headers: origin.edgeHeaders }), { slug });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    const whole = pageStateSchema.parse((await state("")).body);
    const since = pageStateSchema.parse((await state(`?since=${Buffer.from(held).toString("base64url")}`)).body);
    // Only the other PoP's insert and the deletion: none of what `us` holds.
    for (const struct of Y.decodeUpdate(fromBase64(since.state)).structs) expect(struct.id.client).toBe(32);
    expect(fromBase64(since.state).byteLength).toBeLessThan(fromBase64(whole.state).byteLength);
    Y.applyUpdate(us, fromBase64(since.state));
    expect(us.getText("body").toString()).toBe(them.getText("body").toString());
    // The version is the whole page's either way.
    expect(since.stateVector).toBe(whole.stateVector);
    expect(since.revision).toBe(whole.revision);

    for (const bad of ["not+base64", "__"]) {
      const answer = await state(`?since=${bad}`);
      expect(answer.status).toBe(400);
      expect(JSON.stringify(answer.body)).toMatch(/since: /);
    }
  });

  it("merges the same two batches to the same text whatever the order", async () => {
    const texts: string[] = [];
    for (const reverse of [false, true]) {
      const slug = `Order_${randomUUID().slice(0, 8)}`;
      const a = edgeDoc(21);
      const b = edgeDoc(22);
      a.getText("body").insert(0, "Ned ");
      b.getText("body").insert(0, "Catelyn ");
      const batches = [batchOf("us-east", [{ slug, doc: a }]), batchOf("eu-west", [{ slug, doc: b }])];
      for (const batch of reverse ? batches.reverse() : batches) await flush(origin, batch);
      texts.push((await getPage(origin.db.prisma, { slug: slug as Slug })).text);
    }
    expect(texts[0]).toBe(texts[1]);
  });
});

describe.each(testDatabases)("the origin's metrics on $name", (kind) => {
  let origin: TestOrigin;
  beforeAll(async () => {
    origin = await startTestOrigin(kind);
  });
  afterAll(async () => {
    await origin?.close();
  });

  it("counts merged, duplicate and refused batches, their pages and edits, as GET /metrics serves them", async () => {
    const doc = edgeDoc(41);
    doc.getText("body").insert(0, "Hodor.");
    const batch = batchOf("us-east", [
      { slug: `Counted_${randomUUID().slice(0, 8)}`, doc, edits: 40 },
      { slug: `Counted_${randomUUID().slice(0, 8)}`, doc, edits: 2 },
    ]);
    await flush(origin, batch);
    await flush(origin, batch);
    const whole = fromBase64(batch.pages[0]!.update);
    const broken = { ...batch, batchId: randomUUID(), pages: [{ ...batch.pages[0]!, update: toBase64(whole.subarray(0, whole.length - 5)) }] };
    expect((await handleFlush(origin, flushRequest(origin, broken))).status).toBe(400);

    const samples = parseMetricsText(await (await handleMetrics(origin)).text());
    expect(total(samples, "weirwood_origin_batches_total", { result: "merged" })).toBe(1);
    expect(total(samples, "weirwood_origin_batches_total", { result: "duplicate" })).toBe(1);
    expect(total(samples, "weirwood_origin_pages_merged_total")).toBe(2);
    expect(total(samples, "weirwood_origin_edits_merged_total")).toBe(42);
    expect(total(samples, "weirwood_origin_batch_errors_total", { reason: "refused" })).toBe(1);
    expect(total(samples, "weirwood_origin_merge_seconds_count")).toBe(2);
    expect(total(samples, "weirwood_origin_process_resident_memory_bytes")).toBeGreaterThan(0);
  });
});

describe.each(testDatabases)("a flush the origin refuses on $name", (kind) => {
  let origin: TestOrigin;
  beforeAll(async () => {
    origin = await startTestOrigin(kind, { ORIGIN_MAX_BATCH_BYTES: String(1024 * 1024) });
  });
  afterAll(async () => {
    await origin?.close();
  });

  async function expectRefused(request: Request, status: number, message: RegExp) {
    const before = await counts(origin);
    const response = await handleFlush(origin, request);
    const body = (await response.json()) as { error: string; message: string };
    expect(response.status).toBe(status);
    expect(body.message).toMatch(message);
    expect(await counts(origin)).toEqual(before);
  }

  function validBatch() {
    const doc = edgeDoc(31);
    doc.getText("body").insert(0, "Valar morghulis.");
    return batchOf("us-east", [{ slug: `Refused_${randomUUID().slice(0, 8)}`, doc }]);
  }

  it("a truncated Yjs update gets a 400 and changes nothing", async () => {
    const batch = validBatch();
    const page = batch.pages[0]!;
    const bytes = fromBase64(page.update);
    page.update = toBase64(bytes.subarray(0, bytes.length - 5));
    await expectRefused(flushRequest(origin, batch), 400, /not a valid Yjs update/);
  });

  it("a batch whose second page is broken writes neither page", async () => {
    const batch = validBatch();
    const doc = edgeDoc(32);
    doc.getText("body").insert(0, "Second page");
    batch.pages.push({ ...batchOf("us-east", [{ slug: "Second", doc }]).pages[0]!, update: toBase64(new Uint8Array([1, 200])) });
    await expectRefused(flushRequest(origin, batch), 400, /pages\[1\]/);
  });

  it("wrong types get a 400 naming the field", async () => {
    const batch = { ...validBatch(), pages: [{ ...validBatch().pages[0], editCount: "many" }] };
    await expectRefused(flushRequest(origin, batch), 400, /pages\.0\.editCount/);
  });

  it("a body that is not JSON gets a 400", async () => {
    await expectRefused(flushRequest(origin, "{not json"), 400, /not valid JSON/);
  });

  it("a bad slug gets a 400", async () => {
    const batch = validBatch();
    batch.pages[0]!.slug = "lower/case<script>";
    await expectRefused(flushRequest(origin, batch), 400, /slug/);
  });

  it("a 10 MB body gets a 413", async () => {
    const batch = validBatch();
    batch.pages[0]!.update = "A".repeat(10 * 1024 * 1024);
    await expectRefused(flushRequest(origin, batch), 413, /exceeds the limit/);
  });

  it("a flush without the service secret gets a 401", async () => {
    await expectRefused(flushRequest(origin, validBatch(), { authorization: "Bearer wrong" }), 401, /service secret/);
    await expectRefused(flushRequest(origin, validBatch(), {}), 401, /service secret/);
  });
});

describe.each(testDatabases)("the origin's page size limit on $name", (kind) => {
  let origin: TestOrigin;
  beforeAll(async () => {
    origin = await startTestOrigin(kind, { ORIGIN_MAX_PAGE_BYTES: "20000" });
  });
  afterAll(async () => {
    await origin?.close();
  });

  it("a flush that would take a page past the limit gets a 422 naming the page and the limit, and writes nothing", async () => {
    const slug = `Large_${randomUUID().slice(0, 8)}`;
    const doc = edgeDoc(31);
    doc.getText("body").insert(0, "x".repeat(15_000));
    await flush(origin, batchOf("us-east", [{ slug, doc }]));
    const acknowledged = Y.encodeStateVector(doc);
    doc.getText("body").insert(0, "y".repeat(10_000));
    const before = await counts(origin);
    const response = await handleFlush(origin, flushRequest(origin, batchOf("us-east", [{ slug, doc, since: acknowledged }])));
    expect(response.status).toBe(422);
    const body = (await response.json()) as { error: string; message: string };
    expect(body.error).toBe("page_too_large");
    expect(body.message).toContain(slug);
    expect(body.message).toContain("20000 (ORIGIN_MAX_PAGE_BYTES)");
    expect(await counts(origin)).toEqual(before);
    expect((await getPage(origin.db.prisma, { slug: slug as Slug })).text).toBe("x".repeat(15_000));
  });
});

describe.each(testDatabases)("a merge that fails on $name", (kind) => {
  let origin: TestOrigin;
  beforeAll(async () => {
    origin = await startTestOrigin(kind, { ORIGIN_MAX_PAGE_BYTES: "20000" });
  });
  afterAll(async () => {
    await origin?.close();
  });

  it("leaves nothing of its pages behind: the same edit flushed again is stored", async () => {
    const slug = `Kept_${randomUUID().slice(0, 8)}`;
    const doc = edgeDoc(41);
    doc.getText("body").insert(0, "Before.");
    await flush(origin, batchOf("us-east", [{ slug, doc }]));
    const acknowledged = Y.encodeStateVector(doc);
    doc.getText("body").insert(7, " After.");
    const large = edgeDoc(42);
    large.getText("body").insert(0, "z".repeat(25_000));
    // The first page merges, the second is over the limit: the transaction rolls back.
    const failing = batchOf("us-east", [
      { slug, doc, since: acknowledged },
      { slug: `Huge_${randomUUID().slice(0, 8)}`, doc: large },
    ]);
    expect((await handleFlush(origin, flushRequest(origin, failing))).status).toBe(422);
    await flush(origin, batchOf("us-east", [{ slug, doc, since: acknowledged }]));
    expect((await getPage(origin.db.prisma, { slug: slug as Slug })).text).toBe("Before. After.");
  });
});
