import { randomUUID } from "node:crypto";
import { cp, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as Y from "yjs";
import type { Slug } from "../common/slug";
import { type FlushBatch, fromBase64, toBase64 } from "../protocol/flush";
import { MIGRATIONS_DIR } from "../prisma/migrate";
import { createScratchDatabase } from "../prisma/scratch-database";
import { TEST_PG_URL, testDatabases } from "../tests/support/databases";
import { type Database, openDatabase } from "./db";
import type { PrismaClient } from "./generated/prisma/client";
import { mergeBatch } from "./merge";
import { readPageState } from "./page-state";
import { getPage } from "./pages";
import { REVISION_MAX_SPAN_MS } from "./revision-grouping";
import { getRevision, listRevisions } from "./revisions";
import { searchPages } from "./search";
import { COMPACT_MIN_BYTES, COMPACT_ROWS } from "./compaction";
import { refreshAllPages, refreshPage } from "./text-refresh";

/** An edge's copy of a page: it flushes what the origin has not acknowledged. */
class EdgePage {
  readonly doc = new Y.Doc();
  private acknowledged: Uint8Array | undefined;

  constructor(
    readonly slug: Slug,
    clientID: number,
  ) {
    this.doc.clientID = clientID;
  }

  get text(): string {
    return this.doc.getText("body").toString();
  }

  batch(pop: string, authors: string[], edits = 1): FlushBatch {
    return {
      batchId: `${pop}-${randomUUID()}`,
      pop,
      edge: `${pop}-a`,
      pages: [
        {
          slug: this.slug,
          update: toBase64(Y.encodeStateAsUpdate(this.doc, this.acknowledged)),
          stateVector: toBase64(Y.encodeStateVector(this.doc)),
          editCount: edits,
          authors,
        },
      ],
    };
  }

  async flush(prisma: PrismaClient, pop = "us-east", authors = ["Arya"]): Promise<void> {
    const { answer } = await mergeBatch(prisma, this.batch(pop, authors));
    Y.applyUpdate(this.doc, fromBase64(answer.pages[0]!.missing));
    this.acknowledged = fromBase64(answer.pages[0]!.stateVector);
  }
}

/** Text that compresses as prose does not: words of random letters, so the rows' bytes are the text's. */
function randomWords(bytes: number): string {
  const words: string[] = [];
  for (let length = 0; length < bytes; length += 8) words.push(randomUUID().slice(0, 7));
  return `${words.join(" ")}\n`;
}

const newSlug = (prefix: string) => `${prefix}_${randomUUID().slice(0, 8)}` as Slug;

async function storedRows(prisma: PrismaClient, slug: Slug) {
  return prisma.pageUpdate.count({ where: { page: { slug } } });
}

describe.each(testDatabases)("incremental page storage on $name", (kind) => {
  let db: Database;
  beforeAll(async () => {
    db = await kind.open();
  });
  afterAll(async () => {
    await db?.close();
  });

  it("reads the same text and state between appends, refreshes and compaction", async () => {
    const page = new EdgePage(newSlug("Reads"), 101);
    const body = page.doc.getText("body");
    const check = async () => {
      expect((await getPage(db.prisma, { slug: page.slug })).text).toBe(page.text);
      const state = await readPageState(db.prisma, page.slug);
      const copy = new Y.Doc();
      Y.applyUpdate(copy, fromBase64(state.state));
      expect(copy.getText("body").toString()).toBe(page.text);
      copy.destroy();
    };
    for (let round = 0; round < COMPACT_ROWS + 2; round++) {
      body.insert(body.length, `Line ${round}.\n`);
      if (round % 3 === 0) body.delete(0, 2);
      await page.flush(db.prisma);
      if (round % 20 === 0) await check();
      if (round % 50 === 0) await refreshAllPages(db.prisma);
    }
    await check();
    expect(await storedRows(db.prisma, page.slug)).toBeGreaterThan(0);
    // Past COMPACT_ROWS rows the refresh folds them into the page's base.
    const [outcome] = (await refreshAllPages(db.prisma)).filter((o) => o.slug === page.slug);
    expect(outcome).toMatchObject({ refreshed: true, compacted: true });
    expect(await storedRows(db.prisma, page.slug)).toBe(0);
    await check();
    const stored = await db.prisma.page.findUniqueOrThrow({ where: { slug: page.slug } });
    expect(stored.text).toBe(page.text);
    expect(stored.baseSeq).toBe(stored.textSeq);
  });

  it("leaves rows that only added text unfolded, and folds rows whose text was deleted", async () => {
    // Typed only: folding would rewrite the whole page and leave reads merging as many bytes.
    const typed = new EdgePage(newSlug("Typed"), 111);
    const typedBody = typed.doc.getText("body");
    for (let round = 0; round < 4; round++) {
      typedBody.insert(typedBody.length, randomWords(COMPACT_MIN_BYTES / 3));
      await typed.flush(db.prisma);
    }
    const [typedOutcome] = (await refreshAllPages(db.prisma)).filter((o) => o.slug === typed.slug);
    expect(typedOutcome).toMatchObject({ refreshed: true, compacted: false });
    expect(await storedRows(db.prisma, typed.slug)).toBe(4);
    expect((await getPage(db.prisma, { slug: typed.slug })).text).toBe(typed.text);

    // Written and then deleted: the rows hold text the folded document no longer does.
    const churned = new EdgePage(newSlug("Churned"), 112);
    const churnedBody = churned.doc.getText("body");
    for (let round = 0; round < 4; round++) {
      churnedBody.insert(churnedBody.length, randomWords(COMPACT_MIN_BYTES / 3));
      await churned.flush(db.prisma);
      churnedBody.delete(0, churnedBody.length);
      churnedBody.insert(0, `Draft ${round}.`);
      await churned.flush(db.prisma);
    }
    const [churnedOutcome] = (await refreshAllPages(db.prisma)).filter((o) => o.slug === churned.slug);
    expect(churnedOutcome).toMatchObject({ refreshed: true, compacted: true });
    expect(await storedRows(db.prisma, churned.slug)).toBe(0);
    const state = await readPageState(db.prisma, churned.slug);
    expect(fromBase64(state.state).byteLength).toBeLessThan(COMPACT_MIN_BYTES / 4);
    expect((await getPage(db.prisma, { slug: churned.slug })).text).toBe("Draft 3.");
  });

  it("loses nothing when compaction races flushes from two PoPs", async () => {
    const slug = newSlug("Race");
    const east = new EdgePage(slug, 201);
    const west = new EdgePage(slug, 202);
    const refreshing = { stop: false };
    const refresher = (async () => {
      while (!refreshing.stop) await refreshPage(db.prisma, slug, { wait: true });
    })();
    for (let round = 0; round < 80; round++) {
      east.doc.getText("body").insert(0, `e${round} `);
      west.doc.getText("body").insert(0, `w${round} `);
      await Promise.all([east.flush(db.prisma, "us-east", ["Arya"]), west.flush(db.prisma, "eu-west", ["Jon"])]);
    }
    refreshing.stop = true;
    await refresher;
    await east.flush(db.prisma);
    await west.flush(db.prisma);
    await east.flush(db.prisma);
    expect(east.text).toBe(west.text);
    const text = (await getPage(db.prisma, { slug })).text;
    expect(text).toBe(east.text);
    for (let round = 0; round < 80; round++) {
      expect(text.split(" ").filter((word) => word === `e${round}`)).toHaveLength(1);
      expect(text.split(" ").filter((word) => word === `w${round}`)).toHaveLength(1);
    }
    await refreshAllPages(db.prisma);
    expect((await db.prisma.page.findUniqueOrThrow({ where: { slug } })).text).toBe(text);
  });

  it("keeps every revision's text exactly, as deltas and snapshots", async () => {
    const page = new EdgePage(newSlug("History"), 301);
    const body = page.doc.getText("body");
    const expected: string[] = [];
    // Forty people one after another: forty revisions.
    for (let person = 0; person < 40; person++) {
      if (person % 4 === 3) body.delete(0, Math.min(5, body.length));
      body.insert(body.length, `Person ${person} writes a line.\n`);
      await page.flush(db.prisma, "us-east", [`Person${person}`]);
      expected.push(page.text);
      if (person % 7 === 0) await refreshAllPages(db.prisma);
    }
    await refreshAllPages(db.prisma);
    const revisions = await listRevisions(db.prisma, { slug: page.slug, limit: 100 });
    expect(revisions.map((revision) => revision.number)).toEqual(expected.map((_, i) => expected.length - i));
    for (let number = 1; number <= expected.length; number++) {
      const revision = await getRevision(db.prisma, { slug: page.slug, number });
      expect(revision.text).toBe(expected[number - 1]);
      expect(revision.bytes).toBe(Buffer.byteLength(expected[number - 1]!));
    }
    const stored = await db.prisma.revision.findMany({ where: { page: { slug: page.slug } }, orderBy: { number: "asc" } });
    expect(stored.filter((revision) => revision.delta !== null).length).toBeGreaterThan(30);
    expect(stored.at(-1)).toMatchObject({ snapshot: null, delta: null });
  });

  it("groups one person's flushes and a crowd's minute into one revision each", async () => {
    const page = new EdgePage(newSlug("Grouped"), 401);
    const body = page.doc.getText("body");
    for (let i = 0; i < 5; i++) {
      body.insert(body.length, `Arya ${i}. `);
      await page.flush(db.prisma, "us-east", ["Arya"]);
    }
    // A crowd of ten over two simulated minutes, flushed from two PoPs.
    const crowd = Array.from({ length: 10 }, (_, i) => `Crowd${i}`);
    for (let flush = 0; flush < 40; flush++) {
      body.insert(body.length, `c${flush} `);
      await page.flush(db.prisma, flush % 2 ? "eu-west" : "us-east", crowd.slice(flush % 10, (flush % 10) + 6));
    }
    // Flush times as a real crowd's: three seconds apart, ending now.
    await db.prisma.$executeRaw`
      UPDATE "PageUpdate" u SET "createdAt" = now() - make_interval(secs => 3 * (50 - u.seq))
      FROM "Page" p WHERE p.id = u."pageId" AND p.slug = ${page.slug}`;
    await refreshAllPages(db.prisma);
    const revisions = await listRevisions(db.prisma, { slug: page.slug });
    const crowdRevisions = revisions.filter((revision) => revision.authors.some((author) => author.startsWith("Crowd")));
    expect(revisions.at(-1)).toMatchObject({ number: 1, authors: ["Arya"], editCount: 5 });
    // 120 s of crowd in revisions of at most a minute: two or three.
    expect(crowdRevisions.length).toBeGreaterThanOrEqual(2);
    expect(crowdRevisions.length).toBeLessThanOrEqual(3);
    for (const revision of crowdRevisions) {
      expect(Date.parse(revision.updatedAt) - Date.parse(revision.createdAt)).toBeLessThan(REVISION_MAX_SPAN_MS);
    }
    expect(crowdRevisions.reduce((sum, revision) => sum + revision.editCount, 0)).toBe(40);
    expect(new Set(crowdRevisions.flatMap((revision) => revision.pops))).toEqual(new Set(["us-east", "eu-west"]));
  });
});

describe.each(testDatabases.filter((kind) => kind.name === "postgres"))("two origin processes on $name", () => {
  let dbs: Database[] = [];
  let drop: () => Promise<void> = async () => {};
  beforeAll(async () => {
    const scratch = await createScratchDatabase(TEST_PG_URL, "weirwood_test");
    drop = scratch.drop;
    dbs = [await openDatabase({ kind: "postgres", url: scratch.url }), await openDatabase({ kind: "postgres", url: scratch.url })];
    await Promise.all(dbs.map((db) => db.migrate()));
  });
  afterAll(async () => {
    for (const db of dbs) await db.close();
    await drop();
  });

  it("merge concurrent batches of one page from two PoPs exactly once, while both refresh", async () => {
    const slug = newSlug("Two_origins");
    const east = new EdgePage(slug, 501);
    const west = new EdgePage(slug, 502);
    const stop = { now: false };
    const refreshers = dbs.map(async (db) => {
      while (!stop.now) await refreshPage(db.prisma, slug);
    });
    for (let round = 0; round < 60; round++) {
      east.doc.getText("body").insert(0, `e${round} `);
      west.doc.getText("body").insert(0, `w${round} `);
      await Promise.all([east.flush(dbs[0]!.prisma, "us-east", ["Arya"]), west.flush(dbs[1]!.prisma, "eu-west", ["Jon"])]);
    }
    stop.now = true;
    await Promise.all(refreshers);
    await refreshAllPages(dbs[0]!.prisma);
    const text = (await dbs[1]!.prisma.page.findUniqueOrThrow({ where: { slug } })).text;
    for (let round = 0; round < 60; round++) {
      expect(text.split(" ").filter((word) => word === `e${round}`)).toHaveLength(1);
      expect(text.split(" ").filter((word) => word === `w${round}`)).toHaveLength(1);
    }
    const revisions = await listRevisions(dbs[0]!.prisma, { slug, limit: 500 });
    expect(revisions.reduce((sum, revision) => sum + revision.editCount, 0)).toBe(120);
  });
});

describe.each(testDatabases)("the migration of existing pages and revisions on $name", (kind) => {
  let db: Database;
  let drop: () => Promise<void> = async () => {};
  let before: string;
  beforeAll(async () => {
    // The database as the previous release left it: only the migrations before this one.
    before = await mkdtemp(path.join(tmpdir(), "weirwood-migrations-"));
    await cp(path.join(MIGRATIONS_DIR, "20261122224358_init"), path.join(before, "20261122224358_init"), { recursive: true });
    if (kind.name === "postgres") {
      const scratch = await createScratchDatabase(TEST_PG_URL, "weirwood_test");
      drop = scratch.drop;
      db = await openDatabase({ kind: "postgres", url: scratch.url });
    } else {
      db = await openDatabase({ kind: "pglite", dataDir: undefined });
    }
    await db.migrate(before);
  });
  afterAll(async () => {
    await db?.close();
    await drop();
    await rm(before, { recursive: true, force: true });
  });

  it("keeps every page's text and state and every revision's text, and flushes on top of them", async () => {
    const doc = new Y.Doc();
    doc.clientID = 601;
    const body = doc.getText("body");
    body.insert(0, "Old text one.");
    const first = body.toString();
    body.insert(body.length, " Old text two.");
    const pageId = randomUUID();
    await db.prisma.$executeRawUnsafe(
      `INSERT INTO "Page" (id, slug, title, state, "stateVector", text, "revisionCount") VALUES ($1::uuid, 'Old_page', 'Old page', $2, $3, $4, 2)`,
      pageId,
      Buffer.from(Y.encodeStateAsUpdate(doc)),
      Buffer.from(Y.encodeStateVector(doc)),
      body.toString(),
    );
    await db.prisma.$executeRawUnsafe(`INSERT INTO "Batch" (id, pop, edge, "pageCount", "editCount", bytes) VALUES ('old-batch', 'us-east', 'us-east-a', 1, 2, 10)`);
    for (const [number, text] of [
      [1, first],
      [2, body.toString()],
    ] as const) {
      await db.prisma.$executeRawUnsafe(
        `INSERT INTO "Revision" (id, "pageId", number, text, diff, "editCount", authors, pop, "batchId") VALUES ($1::uuid, $2::uuid, $3, $4, '\\x00', 1, ARRAY['Old'], 'us-east', 'old-batch')`,
        randomUUID(),
        pageId,
        number,
        text,
      );
    }

    await db.migrate();

    const slug = "Old_page" as Slug;
    expect((await getPage(db.prisma, { slug })).text).toBe("Old text one. Old text two.");
    // Search finds migrated pages by their text at once, before any refresh.
    expect((await searchPages(db.prisma, { query: "text" })).map((hit) => hit.slug)).toEqual([slug]);
    expect((await getRevision(db.prisma, { slug, number: 1 })).text).toBe("Old text one.");
    expect(await getRevision(db.prisma, { slug, number: 2 })).toMatchObject({ text: "Old text one. Old text two.", pops: ["us-east"] });
    const state = await readPageState(db.prisma, slug);
    expect(Buffer.from(state.stateVector, "base64")).toEqual(Buffer.from(Y.encodeStateVector(doc)));

    body.insert(body.length, " New text.");
    await mergeBatch(db.prisma, {
      batchId: "new-batch",
      pop: "eu-west",
      edge: "eu-west-a",
      pages: [{ slug, update: toBase64(Y.encodeStateAsUpdate(doc, fromBase64(state.stateVector))), stateVector: toBase64(Y.encodeStateVector(doc)), editCount: 1, authors: ["New"] }],
    });
    await refreshAllPages(db.prisma);
    expect((await getRevision(db.prisma, { slug, number: 3 })).text).toBe("Old text one. Old text two. New text.");
    expect((await getRevision(db.prisma, { slug, number: 2 })).text).toBe("Old text one. Old text two.");
  });
});

describe.each(testDatabases)("a page holding a NUL character on $name", (kind) => {
  let db: Database;
  beforeAll(async () => {
    db = await kind.open();
  });
  afterAll(async () => {
    await db?.close();
  });

  it("is stored, refreshed and read with U+FFFD in its text, and its Yjs state keeps the NUL", async () => {
    const page = new EdgePage(newSlug("Nul"), 701);
    page.doc.getText("body").insert(0, "before\u0000after");
    await page.flush(db.prisma);
    const outcomes = await refreshAllPages(db.prisma);
    expect(outcomes.find((outcome) => outcome.slug === page.slug)).toMatchObject({ refreshed: true, textChanged: true });
    expect((await getPage(db.prisma, { slug: page.slug })).text).toBe("before\uFFFDafter");
    expect((await getRevision(db.prisma, { slug: page.slug, number: 1 })).text).toBe("before\uFFFDafter");
    const copy = new Y.Doc();
    Y.applyUpdate(copy, fromBase64((await readPageState(db.prisma, page.slug)).state));
    expect(copy.getText("body").toString()).toBe("before\u0000after");
  });
});
