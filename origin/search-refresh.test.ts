import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as Y from "yjs";
import type { Slug } from "../common/slug";
import { fromBase64, toBase64 } from "../protocol/flush";
import { testDatabases } from "../tests/support/databases";
import type { Database } from "./db";
import type { PrismaClient } from "./generated/prisma/client";
import { mergeBatch } from "./merge";
import { searchPages } from "./search";
import { dueSearchPages, refreshSearch } from "./search-refresh";
import { refreshAllPages, refreshPage } from "./text-refresh";

/** One writer's copy of a page, flushed to the origin as an edge would. */
class Writer {
  readonly doc = new Y.Doc();
  private acknowledged: Uint8Array | undefined;
  constructor(readonly slug: Slug) {}

  async type(prisma: PrismaClient, text: string): Promise<void> {
    const body = this.doc.getText("body");
    body.insert(body.length, text);
    const { answer } = await mergeBatch(prisma, {
      batchId: randomUUID(),
      pop: "us-east",
      edge: "us-east-a",
      pages: [{ slug: this.slug, update: toBase64(Y.encodeStateAsUpdate(this.doc, this.acknowledged)), stateVector: toBase64(Y.encodeStateVector(this.doc)), editCount: 1, authors: ["Arya"] }],
    });
    this.acknowledged = fromBase64(answer.pages[0]!.stateVector);
  }
}

const found = async (prisma: PrismaClient, query: string) => (await searchPages(prisma, { query })).map((hit) => hit.slug);
const pageId = async (prisma: PrismaClient, slug: Slug) => (await prisma.page.findUniqueOrThrow({ where: { slug }, select: { id: true } })).id;
/** Bounds under which a page is "hot" for the whole test: never quiet, its copy never old enough. */
const HOT = { refreshMs: 3_600_000, quietMs: 3_600_000 };

describe.each(testDatabases)("search copies on $name", (kind) => {
  let db: Database;
  beforeAll(async () => {
    db = await kind.open();
  });
  afterAll(async () => {
    await db?.close();
  });

  it("finds a new page by its title at once, and by its text once the page is quiet", async () => {
    const slug = `Direwolf_${randomUUID().slice(0, 8)}` as Slug;
    const writer = new Writer(slug);
    await writer.type(db.prisma, "Ghost hunts beyond the Wall.");
    const id = await pageId(db.prisma, slug);
    // A page without a copy is due whatever the bounds.
    expect(await dueSearchPages(db.prisma, HOT, 100_000)).toContain(id);
    expect(await refreshSearch(db.prisma, id)).toBe(true);
    expect(await found(db.prisma, slug.replace("_", " "))).toEqual([slug]);
    expect(await found(db.prisma, "ghost")).not.toContain(slug);

    await refreshPage(db.prisma, slug, { wait: true });
    expect(await dueSearchPages(db.prisma, HOT, 100_000)).not.toContain(id);
    expect(await dueSearchPages(db.prisma, { refreshMs: 3_600_000, quietMs: 0 }, 100_000)).toContain(id);
    await refreshAllPages(db.prisma);
    expect(await found(db.prisma, "ghost")).toEqual([slug]);
  });

  it("re-indexes a page that keeps being edited only once its copy is old enough", async () => {
    const slug = `Hot_${randomUUID().slice(0, 8)}` as Slug;
    const writer = new Writer(slug);
    await writer.type(db.prisma, "Hodor holds the door.");
    await refreshAllPages(db.prisma);
    const id = await pageId(db.prisma, slug);
    expect(await found(db.prisma, "hodor")).toEqual([slug]);

    // The text follows every edit, but while flushes keep arriving the copy is not due.
    await writer.type(db.prisma, " Winterfell burns.");
    await refreshPage(db.prisma, slug, { wait: true });
    await writer.type(db.prisma, " Dragons fly.");
    expect(await dueSearchPages(db.prisma, { refreshMs: 3_600_000, quietMs: 0 }, 100_000)).not.toContain(id);
    expect(await found(db.prisma, "winterfell")).toEqual([]);

    // Past the bound it is, and takes the text as refreshed (not the unrefreshed flush).
    expect(await dueSearchPages(db.prisma, { refreshMs: 0, quietMs: 3_600_000 }, 100_000)).toContain(id);
    expect(await refreshSearch(db.prisma, id)).toBe(true);
    expect(await found(db.prisma, "winterfell")).toEqual([slug]);
    expect(await found(db.prisma, "dragons")).toEqual([]);
  });

  it("moves an unchanged copy's seq without re-indexing it", async () => {
    const slug = `Same_${randomUUID().slice(0, 8)}` as Slug;
    const writer = new Writer(slug);
    await writer.type(db.prisma, "Valar morghulis.");
    await refreshAllPages(db.prisma);
    const id = await pageId(db.prisma, slug);
    // A flush that changes the Yjs state but not the text (a format-free insert and delete).
    const body = writer.doc.getText("body");
    body.insert(0, "x");
    body.delete(0, 1);
    await writer.type(db.prisma, "");
    await refreshPage(db.prisma, slug, { wait: true });
    expect(await dueSearchPages(db.prisma, { refreshMs: 0, quietMs: 0 }, 100_000)).toContain(id);
    expect(await refreshSearch(db.prisma, id)).toBe(false);
    expect(await dueSearchPages(db.prisma, { refreshMs: 0, quietMs: 0 }, 100_000)).not.toContain(id);
    expect(await found(db.prisma, "morghulis")).toEqual([slug]);
  });

  it("searches through the GIN index over the same expression the index holds", async () => {
    const plan = await db.prisma.$transaction(async (tx) => {
      await tx.$executeRawUnsafe("SET LOCAL enable_seqscan = off");
      return tx.$queryRawUnsafe<{ "QUERY PLAN": string }[]>(
        `EXPLAIN SELECT 1 FROM "PageSearch" s WHERE weirwood_search_document(s.title, s.text) @@ websearch_to_tsquery('english', 'wall')`,
      );
    });
    expect(plan.map((row) => row["QUERY PLAN"]).join("\n")).toContain("PageSearch_document_idx");
  });
});
