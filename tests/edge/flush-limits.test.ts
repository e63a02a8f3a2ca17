import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { originText as committedText } from "../support/origin-text";
import { createMemoryBus } from "../../broker/memory";
import { edgeConfigFromEnv } from "../../edge/config";
import { type RunningEdge, startEdge } from "../../edge/edge";
import { FlushIncompleteError } from "../../edge/origin-sync/flusher";
import { CloseCode } from "../../protocol/close-codes";
import { ProtocolEditor } from "../../e2e/load/protocol-editor";
import { serveOrigin } from "../../origin/http/node-adapter";
import { testDatabases } from "../support/databases";
import { startTestOrigin, type TestOrigin } from "../support/origin";

/** `promise`, or a failure naming what did not happen within `ms`. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`waited ${ms} ms for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const slugOf = (name: string) => `${name}_${Math.random().toString(36).slice(2, 8)}`;

/** A small origin body limit, so that a flush over it costs little. */
const ORIGIN_MAX_BATCH_BYTES = 64 * 1024;

interface System {
  edge: RunningEdge;
  editor(slug: string): Promise<ProtocolEditor>;
  originText(slug: string): Promise<string | undefined>;
  stop(): Promise<void>;
}

/**
 * The real origin (with a small body limit) and one edge replica, alone in
 * its PoP so that it flushes every page; flushes happen only when the test
 * calls them.
 */
async function startEdgeOf(origin: TestOrigin, originUrl: string, edgeEnv: Record<string, string>): Promise<System> {
  const bus = createMemoryBus();
  const config = edgeConfigFromEnv({
    EDGE_POP: `flush-${Math.random().toString(36).slice(2, 8)}`,
    ORIGIN_URL: originUrl,
    EDGE_FLUSH_MS: "600000",
    EDGE_RATE_LIMIT: "off",
    LOG_LEVEL: process.env.EDGE_TEST_LOG_LEVEL ?? "silent",
    ...edgeEnv,
  });
  const edge = await startEdge(config, { broker: bus.connect("edge"), serviceSecret: origin.serviceSecret });
  const register = await fetch(`${originUrl}/api/auth/register`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name: `Flusher${Math.random().toString(36).slice(2, 8)}`, password: "correct horse battery" }),
  });
  const { token } = (await register.json()) as { token: string };
  const editors: ProtocolEditor[] = [];
  return {
    edge,
    async editor(slug) {
      const editor = ProtocolEditor.connect({ url: edge.url, slug, token });
      editors.push(editor);
      await editor.synced;
      return editor;
    },
    async originText(slug) {
      return committedText(origin, slug);
    },
    async stop() {
      for (const editor of editors) editor.terminate();
      await edge.close();
    },
  };
}

describe("flushes that cannot jam", () => {
  let origin: TestOrigin;
  let served: { url: string; close(): Promise<void> };
  let system: System | undefined;
  const startSystem = async (edgeEnv: Record<string, string>) => startEdgeOf(origin, served.url, edgeEnv);
  beforeAll(async () => {
    origin = await startTestOrigin(testDatabases[0]!, { ORIGIN_MAX_BATCH_BYTES: String(ORIGIN_MAX_BATCH_BYTES) });
    served = await serveOrigin(origin);
  });
  afterAll(async () => {
    await served?.close().catch(() => {});
    await origin?.close();
  });
  afterEach(async () => {
    await system?.stop();
    system = undefined;
  });

  /** Five small pages and one whose diff is three times the origin's body limit. */
  async function writePages(sys: System, withBig = true): Promise<{ big: string; bigText: string; small: Map<string, string> }> {
    const big = slugOf("Big");
    const bigText = Array.from({ length: 250 }, (_, i) => `paragraph ${i} ${"é".repeat(400)}\n`).join("");
    if (withBig) await (await sys.editor(big)).insert(0, bigText);
    const small = new Map<string, string>();
    for (let i = 0; i < 5; i++) {
      const slug = slugOf(`Small${i}`);
      const smallEditor = await sys.editor(slug);
      await smallEditor.insert(0, `small page ${i}`);
      small.set(slug, `small page ${i}`);
    }
    return { big, bigText, small };
  }

  it("sends a page's diff over the origin's body limit alone, in parts, with the other pages", async () => {
    system = await startSystem({ EDGE_FLUSH_MAX_BYTES: String(48 * 1024) });
    const { big, bigText, small } = await writePages(system);
    expect(Buffer.byteLength(bigText)).toBeGreaterThan(2.5 * ORIGIN_MAX_BATCH_BYTES);

    await system.edge.replica.flusher.flush("owned");

    expect(await system.originText(big)).toBe(bigText);
    for (const [slug, text] of small) expect(await system.originText(slug)).toBe(text);
    const parts = (await system.edge.replica.metrics.flushParts.get()).values[0]?.value ?? 0;
    expect(parts).toBeGreaterThanOrEqual(3);
    expect([...system.edge.replica.pages.all()].filter((page) => page.dirty)).toEqual([]);
  });

  it("learns a smaller limit from the origin's 413 when EDGE_FLUSH_MAX_BYTES is set above the origin's", async () => {
    system = await startSystem({ EDGE_FLUSH_MAX_BYTES: String(1024 * 1024) });
    const { big, bigText, small } = await writePages(system);

    await system.edge.replica.flusher.flush("owned");

    expect(await system.originText(big)).toBe(bigText);
    for (const [slug, text] of small) expect(await system.originText(slug)).toBe(text);
    const limit = (await system.edge.replica.metrics.flushMaxBytes.get()).values[0]?.value ?? 0;
    expect(limit).toBeLessThanOrEqual(ORIGIN_MAX_BATCH_BYTES);
  });

  it("a page the origin refuses does not block the others, stays dirty, is retried, and loses nothing", async () => {
    system = await startSystem({ EDGE_FLUSH_MAX_BYTES: String(1024 * 1024) });
    const { small } = await writePages(system, false);
    // One value the origin cannot take in any request: a single map entry
    // (one Yjs struct, which cannot be cut) over its body limit.
    const refused = slugOf("Refused");
    const refusedEditor = await system.editor(refused);
    await refusedEditor.insert(0, "kept at the edge");
    await refusedEditor.change(() => refusedEditor.doc.getMap("meta").set("blob", "b".repeat(ORIGIN_MAX_BATCH_BYTES * 2)));

    const failure = await system.edge.replica.flusher.flush("owned").catch((error: unknown) => error);
    for (const [slug, text] of small) expect(await system.originText(slug)).toBe(text);
    expect(failure).toBeInstanceOf(FlushIncompleteError);
    expect((failure as FlushIncompleteError).slugs).toEqual([refused]);
    // Its text may have gone in a part of its own; the map entry cannot.

    const replica = system.edge.replica;
    const page = replica.pages.get(refused)!;
    expect(page.dirty).toBe(true);
    expect(page.doc.getText("body").toString()).toBe("kept at the edge");
    expect(replica.flusher.heldPages().get(refused)).toMatchObject({ status: 413, attempts: 1 });
    expect((await replica.metrics.flushRefusedPages.get()).values.find((value) => value.labels.status === "413")?.value).toBe(1);

    // New edits on the other pages keep flowing while the refused page waits.
    const [first] = [...small.keys()];
    const editor = await system.editor(first!);
    await editor.insert(0, "more ");
    await replica.flusher.flush("owned");
    expect(await system.originText(first!)).toBe(`more ${small.get(first!)}`);
    expect(page.dirty).toBe(true);

    // Past its backoff (or on drain) it is tried again, and refused again.
    const again = await replica.flusher.flush("all").catch((error: unknown) => error);
    expect((again as FlushIncompleteError).slugs).toEqual([refused]);
    expect(replica.flusher.heldPages().get(refused)?.attempts).toBe(2);
  });

  it("refuses an update that would take a page over the page size limit, naming it, while nothing acknowledged is lost and other pages flush", async () => {
    system = await startSystem({ EDGE_MAX_PAGE_BYTES: String(32 * 1024) });
    const full = slugOf("Full");
    const other = slugOf("Other");
    const writer = await system.editor(full);
    const kept = "k".repeat(30 * 1024);
    expect((await writer.insert(0, kept)).durability).toBe("edge");

    // 3 KB more would pass 32 KiB: refused, not applied, the socket closed with the limit named.
    void writer.insert(kept.length, "x".repeat(3 * 1024)).catch(() => {});
    const closing = await within(writer.closed, 5000, "the edge to close the writer's socket");
    expect(closing.code).toBe(CloseCode.pageTooLarge);
    expect(closing.reason).toContain("EDGE_MAX_PAGE_BYTES");
    expect(closing.reason).toContain(String(32 * 1024));
    const page = system.edge.replica.pages.get(full)!;
    expect(page.doc.getText("body").toString()).toBe(kept);

    // A page at its limit still shrinks; other pages take edits as before.
    const trimmer = await system.editor(full);
    expect((await trimmer.delete(0, 1000)).durability).toBe("edge");
    const elsewhere = await system.editor(other);
    expect((await elsewhere.insert(0, "other page")).durability).toBe("edge");

    await system.edge.replica.flusher.flush("owned");
    expect(await system.originText(full)).toBe(kept.slice(1000));
    expect(await system.originText(other)).toBe("other page");
  });

  it("a page the origin fails on (500) is isolated the same way: the other pages of its batch flush", async () => {
    system = await startSystem({});
    const { small } = await writePages(system, false);
    // A fault of the database itself, for one page: a trigger refuses its
    // rows, so the origin answers 500 for any batch holding it.
    const poisoned = slugOf("Poisoned");
    await origin.db.prisma.$executeRawUnsafe(`
      CREATE OR REPLACE FUNCTION refuse_poisoned() RETURNS trigger AS $$
      BEGIN
        IF EXISTS (SELECT 1 FROM "Page" WHERE id = NEW."pageId" AND slug = '${poisoned}') THEN RAISE EXCEPTION 'a disk fault, as far as this page knows'; END IF;
        RETURN NEW;
      END $$ LANGUAGE plpgsql`);
    await origin.db.prisma.$executeRawUnsafe(`CREATE TRIGGER refuse_poisoned BEFORE INSERT ON "PageUpdate" FOR EACH ROW EXECUTE FUNCTION refuse_poisoned()`);
    try {
      const poisonedEditor = await system.editor(poisoned);
      await poisonedEditor.insert(0, "poisoned page");

      const failure = await system.edge.replica.flusher.flush("owned").catch((error: unknown) => error);
      for (const [slug, text] of small) expect(await system.originText(slug)).toBe(text);
      expect((failure as FlushIncompleteError).slugs).toEqual([poisoned]);
      const page = system.edge.replica.pages.get(poisoned)!;
      expect(page.dirty).toBe(true);
      expect(page.doc.getText("body").toString()).toBe("poisoned page");
      expect(system.edge.replica.flusher.heldPages().get(poisoned)?.status).toBe(500);
    } finally {
      await origin.db.prisma.$executeRawUnsafe(`DROP TRIGGER refuse_poisoned ON "PageUpdate"`);
    }
  });

  it("a page holding a NUL character flushes like any other (the origin stores U+FFFD in its text)", async () => {
    system = await startSystem({});
    const slug = slugOf("Nul");
    await (await system.editor(slug)).insert(0, "nul \u0000 here");
    await system.edge.replica.flusher.flush("owned");
    expect(system.edge.replica.pages.get(slug)!.dirty).toBe(false);
    expect(await system.originText(slug)).toBe("nul \uFFFD here");
  });
});
