import { describe, expect, it } from "vitest";
import * as Y from "yjs";
import { createLogger } from "../../common/logger";
import type { Slug } from "../../common/slug";
import { encodeEnvelope, ORIGIN_POP } from "../../protocol/envelope";
import { toBase64 } from "../../protocol/flush";
import type { Membership } from "../pop/membership";
import type { OriginClient } from "./origin-client";
import { OriginFollowing } from "./origin-following";
import { takeFromOrigin } from "../pages/client-ids";
import { Page } from "../pages/page";
import type { Peers } from "../pop/peers";

/**
 * Another PoP's commit is announced while this replica is still loading the
 * page (it may have read the origin before that commit): once loaded, the
 * page takes the commit. Before, the notice found no held page and was
 * dropped, and the page kept the old text until somebody edited it here
 * (seen as a replica of the other PoP never showing seat lines in
 * tests/spike/crowd-reconnect.test.ts).
 */
describe("following the origin", () => {
  it("a commit announced while the page loads is pulled once it has loaded", async () => {
    const committed = new Y.Doc();
    committed.getText("body").insert(0, "[committed by the other PoP]");
    const origin = {
      pageState: async (slug: string) => ({
        slug,
        exists: true,
        protection: "none" as const,
        state: toBase64(Y.encodeStateAsUpdate(committed)),
        stateVector: toBase64(Y.encodeStateVector(committed)),
        revision: 2,
      }),
    } as unknown as OriginClient;
    // The page as its load read the origin, before the commit.
    const page = new Page("Crowd" as Slug, { protection: "none", originVector: new Uint8Array([0]), revision: 1 });
    let loaded!: (page: Page) => void;
    const loading = new Promise<Page>((resolve) => (loaded = resolve));
    let held: Page | undefined = undefined;
    const following = new OriginFollowing({
      pop: "eu-west",
      replica: "eu-west-c",
      origin,
      membership: { owns: () => true } as unknown as Membership,
      peers: {} as Peers,
      heldPage: () => held,
      loadingPage: () => (held ? undefined : loading),
      apply: (target, update) => Y.applyUpdate(target.doc, update),
      flushMs: 100,
      log: createLogger("test", "silent"),
    });

    following.pageChanged(encodeEnvelope({ type: "page-changed", replica: "origin", pop: "us-east", slugs: ["Crowd"] }));
    held = page;
    loaded(page);
    const deadline = Date.now() + 5000;
    while (page.doc.getText("body").toString() === "" && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(page.doc.getText("body").toString()).toBe("[committed by the other PoP]");
    page.destroy();
  });

  it("the flusher asks for what it has not compared with the origin; a holder that does not flush the page asks nothing of another PoP's commit, and after a protection change only for the state past its own", async () => {
    const committed = new Y.Doc();
    committed.getText("body").insert(0, "[committed by the other PoP]");
    const asked: { slug: string; since: Uint8Array | undefined }[] = [];
    const origin = {
      pageState: async (slug: string, since?: Uint8Array) => {
        asked.push({ slug, since });
        return {
          slug,
          exists: true,
          protection: "admin" as const,
          state: toBase64(since ? Y.diffUpdate(Y.encodeStateAsUpdate(committed), since) : Y.encodeStateAsUpdate(committed)),
          stateVector: toBase64(Y.encodeStateVector(committed)),
          revision: 2,
        };
      },
    } as unknown as OriginClient;
    const pages = new Map<string, Page>();
    for (const slug of ["Held", "Flushed"]) {
      const page = new Page(slug as Slug, { protection: "none", originVector: new Uint8Array([0]), revision: 1 });
      page.doc.getText("body").insert(0, `[${slug} here]`);
      pages.set(slug, page);
    }
    const following = new OriginFollowing({
      pop: "eu-west",
      replica: "eu-west-c",
      origin,
      membership: { owns: (slug: string) => slug === "Flushed" } as unknown as Membership,
      peers: {} as Peers,
      heldPage: (slug) => pages.get(slug),
      loadingPage: () => undefined,
      // As the replica's update path does for the origin's state (ClientIdScreening.applyFromOrigin).
      apply: (target, update) => void takeFromOrigin(target, update, () => Y.applyUpdate(target.doc, update)),
      flushMs: 100,
      log: createLogger("test", "silent"),
    });

    following.pageChanged(encodeEnvelope({ type: "page-changed", replica: "origin", pop: "us-east", slugs: ["Held", "Flushed"] }));
    const deadline = Date.now() + 5000;
    while (pages.get("Flushed")!.protection !== "admin" && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(asked.map((call) => call.slug)).toEqual(["Flushed"]);
    // An admin's protection change: every holder asks.
    following.pageChanged(encodeEnvelope({ type: "page-changed", replica: "origin", pop: ORIGIN_POP, slugs: ["Held"] }));
    while (pages.get("Held")!.protection !== "admin" && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));

    const held = pages.get("Held")!;
    expect(held.protection).toBe("admin");
    expect(asked.find((call) => call.slug === "Held")?.since).toEqual(Y.encodeStateVector(held.doc));
    expect(held.doc.getText("body").toString()).toBe("[Held here]");
    const flushed = pages.get("Flushed")!;
    expect(flushed.protection).toBe("admin");
    // Nothing compared yet: the whole page.
    expect(asked.find((call) => call.slug === "Flushed")?.since).toEqual(Y.encodeStateVector(new Map()));
    expect(flushed.doc.getText("body").toString()).toContain("[committed by the other PoP]");

    // The next commit: only what the other PoP wrote since, which the check compares and the page takes.
    committed.getText("body").insert(0, "[and more]");
    asked.length = 0;
    following.pageChanged(encodeEnvelope({ type: "page-changed", replica: "origin", pop: "us-east", slugs: ["Flushed"] }));
    while (!flushed.doc.getText("body").toString().includes("[and more]") && Date.now() < deadline + 5000) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(flushed.doc.getText("body").toString()).toContain("[and more]");
    expect(Y.decodeStateVector(asked[0]!.since!)).toEqual(new Map([[committed.clientID, "[committed by the other PoP]".length]]));
    for (const page of pages.values()) page.destroy();
  });
});
