import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as Y from "yjs";
import { startPrivatePostgres, type PrivatePostgres } from "../e2e/support/private-postgres";
import type { Slug } from "../common/slug";
import { toBase64 } from "../protocol/flush";
import { testDatabases } from "../tests/support/databases";
import { type Database, openDatabase } from "./db";
import type { PrismaClient } from "./generated/prisma/client";
import { mergeBatch } from "./merge";
import { searchPages } from "./search";
import { refreshAllSearch } from "./search-refresh";
import { applySearchPersistence, pagesWithoutSearchCopy, searchPersistence } from "./search-persistence";
import { refreshAllPages } from "./text-refresh";

async function createPage(prisma: PrismaClient, slug: Slug, text: string): Promise<void> {
  const doc = new Y.Doc();
  doc.getText("body").insert(0, text);
  await mergeBatch(prisma, {
    batchId: randomUUID(),
    pop: "us-east",
    edge: "us-east-a",
    pages: [{ slug, update: toBase64(Y.encodeStateAsUpdate(doc)), stateVector: toBase64(Y.encodeStateVector(doc)), editCount: 1, authors: ["Arya"] }],
  });
}

const found = async (prisma: PrismaClient, query: string) => (await searchPages(prisma, { query })).map((hit) => hit.slug);

describe.each(testDatabases)("search persistence on $name", (kind) => {
  let db: Database;
  beforeAll(async () => {
    db = await kind.open();
  });
  afterAll(async () => {
    await db?.close();
  });

  it("makes the search copies unlogged or logged as configured, and changes nothing when they already are", async () => {
    expect(await applySearchPersistence(db.prisma, "unlogged")).toBe(true);
    expect(await searchPersistence(db.prisma)).toBe("unlogged");
    expect(await applySearchPersistence(db.prisma, "unlogged")).toBe(false);
    expect(await applySearchPersistence(db.prisma, "logged")).toBe(true);
    expect(await searchPersistence(db.prisma)).toBe("logged");
    expect(await applySearchPersistence(db.prisma, "unlogged")).toBe(true);
  });

  it("finds every page again once the copies are retaken after the table was emptied", async () => {
    const slug = `Weirwood_${randomUUID().slice(0, 8)}` as Slug;
    await createPage(db.prisma, slug, "Bran sees through the heart tree.");
    await refreshAllPages(db.prisma);
    await refreshAllSearch(db.prisma);
    expect(await found(db.prisma, "heart tree")).toContain(slug);
    // What crash recovery does to an unlogged table.
    await db.prisma.$executeRawUnsafe(`TRUNCATE "PageSearch"`);
    expect(await found(db.prisma, "heart tree")).not.toContain(slug);
    expect(await pagesWithoutSearchCopy(db.prisma)).toBeGreaterThan(0);
    await refreshAllSearch(db.prisma);
    expect(await pagesWithoutSearchCopy(db.prisma)).toBe(0);
    expect(await found(db.prisma, "heart tree")).toContain(slug);
  });
});

// The claim the setting rests on, on a real server: an unlogged table costs
// no WAL and is emptied by crash recovery, and the origin's pass rebuilds it.
describe("search copies across a Postgres crash", () => {
  let cluster: PrivatePostgres;
  let db: Database;
  beforeAll(async () => {
    cluster = await startPrivatePostgres();
    db = await openDatabase({ kind: "postgres", url: cluster.url });
    await db.migrate();
  }, 60_000);
  afterAll(async () => {
    await db?.close();
    await cluster?.stop();
  });

  const walBytes = async (work: () => Promise<unknown>): Promise<number> => {
    const [before] = await db.prisma.$queryRaw<{ lsn: string }[]>`SELECT pg_current_wal_insert_lsn()::text AS lsn`;
    await work();
    const [diff] = await db.prisma.$queryRaw<{ bytes: number }[]>`
      SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), ${before!.lsn}::pg_lsn)::float8 AS bytes`;
    return diff!.bytes;
  };

  it("writes the copy of a page of 5,000 distinct words to the WAL only when logged, and rebuilds it after a crash", async () => {
    const words = Array.from({ length: 5000 }, (_, i) => `rune${i.toString(36)}x${(i * 7919).toString(36)}`).join(" ");
    const logged = `Logged_${randomUUID().slice(0, 8)}` as Slug;
    const unlogged = `Unlogged_${randomUUID().slice(0, 8)}` as Slug;

    await applySearchPersistence(db.prisma, "logged");
    await createPage(db.prisma, logged, `${words} direwolf`);
    await refreshAllPages(db.prisma);
    const loggedWal = await walBytes(async () => {
      await refreshAllSearch(db.prisma);
      await db.prisma.$executeRawUnsafe(`VACUUM "PageSearch"`); // folds the GIN pending list into the tree
    });

    await applySearchPersistence(db.prisma, "unlogged");
    await createPage(db.prisma, unlogged, `${words.replaceAll("rune", "glyph")} shadowcat`);
    await refreshAllPages(db.prisma);
    const unloggedWal = await walBytes(async () => {
      await refreshAllSearch(db.prisma);
      await db.prisma.$executeRawUnsafe(`VACUUM "PageSearch"`);
    });
    // Logged, the index alone writes well over 100 bytes per new word; unlogged,
    // what is left is the transaction's commit and the Page rows' reads.
    expect(loggedWal).toBeGreaterThan(5000 * 100);
    expect(unloggedWal).toBeLessThan(loggedWal / 20);
    expect(await found(db.prisma, "shadowcat")).toEqual([unlogged]);

    await db.close();
    await cluster.restart(0);
    db = await openDatabase({ kind: "postgres", url: cluster.url });
    expect(await searchPersistence(db.prisma)).toBe("unlogged");
    expect(await found(db.prisma, "shadowcat")).toEqual([]);
    expect(await pagesWithoutSearchCopy(db.prisma)).toBe(2);
    await refreshAllSearch(db.prisma);
    expect(await found(db.prisma, "shadowcat")).toEqual([unlogged]);
    expect(await found(db.prisma, "direwolf")).toEqual([logged]);
  }, 60_000);
});
