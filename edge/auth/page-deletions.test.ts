import { describe, expect, it } from "vitest";
import { createLogger } from "../../common/logger";
import type { Slug } from "../../common/slug";
import { type DeletedPage, encodeDeletionNotice } from "../../protocol/deletions";
import { Page } from "../pages/page";
import { PageDeletions } from "./page-deletions";

/** The origin's answers to a replica's recheck, released when the test says. */
function heldAnswers() {
  const pending: { slugs: string[]; answer(deleted: DeletedPage[]): void }[] = [];
  const readDeleted = (slugs: string[]) => new Promise<DeletedPage[]>((resolve) => pending.push({ slugs, answer: resolve }));
  return { pending, readDeleted };
}

function setUp() {
  const pages = new Map<string, Page>();
  const hold = (slug: string) => {
    const page = new Page(slug as Slug, { protection: "none", originVector: new Uint8Array([0]), revision: 1 });
    pages.set(slug, page);
    return page;
  };
  const origin = heldAnswers();
  const deletions = new PageDeletions({
    pages: () => pages.values(),
    heldPage: (slug) => pages.get(slug),
    connections: [],
    readDeleted: origin.readDeleted,
    closed: () => {},
    log: createLogger("test", "silent"),
  });
  return { pages, hold, origin, deletions };
}

describe("a replica's view of deleted pages", () => {
  it("takes a notice at once, and a recheck's answer for every held page", async () => {
    const { hold, origin, deletions } = setUp();
    const sept = hold("Great_Sept");
    const keep = hold("Red_Keep");
    deletions.noticeHeard(encodeDeletionNotice({ kind: "deleted", page: { slug: "Great_Sept", reason: "wildfire" } }));
    expect(sept.deleted).toBe("this page was deleted by an admin: wildfire");
    expect(keep.deleted).toBeUndefined();

    // The undelete notice was lost: the recheck finds the page no longer deleted.
    const reread = deletions.reread();
    expect(origin.pending[0]!.slugs.sort()).toEqual(["Great_Sept", "Red_Keep"]);
    origin.pending[0]!.answer([{ slug: "Red_Keep", reason: "siege" }]);
    await reread;
    expect(sept.deleted).toBeUndefined();
    expect(keep.deleted).toBe("this page was deleted by an admin: siege");
  });

  it("a notice heard while a recheck is under way wins over the recheck's older answer", async () => {
    const { hold, origin, deletions } = setUp();
    const sept = hold("Great_Sept");
    const reread = deletions.reread();
    // The origin read its answer before the delete committed; the notice arrives before the answer.
    deletions.noticeHeard(encodeDeletionNotice({ kind: "deleted", page: { slug: "Great_Sept", reason: "wildfire" } }));
    origin.pending[0]!.answer([]);
    await reread;
    expect(sept.deleted).toBe("this page was deleted by an admin: wildfire");
  });

  it("cuts a long reason to a close frame's 123 bytes", () => {
    const { hold, deletions } = setUp();
    const sept = hold("Great_Sept");
    deletions.noticeHeard(encodeDeletionNotice({ kind: "deleted", page: { slug: "Great_Sept", reason: "é".repeat(200) } }));
    expect(Buffer.byteLength(sept.deleted!)).toBeLessThanOrEqual(123);
  });
});
