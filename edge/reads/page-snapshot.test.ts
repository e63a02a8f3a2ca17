import { describe, expect, it } from "vitest";
import * as Y from "yjs";
import { parseSlug } from "../../common/slug";
import { Page } from "../pages/page";
import { readSnapshot } from "./page-snapshot";

const pageWith = (text: string) => {
  const page = new Page(parseSlug("Winterfell"), { protection: "none", originVector: new Uint8Array([0]), revision: 2 });
  page.doc.getText("body").insert(0, text);
  return page;
};

describe("a page's read answer", () => {
  it("is the page's text and revision, and one ETag while neither changes", () => {
    const page = pageWith("[north]");
    const first = readSnapshot(page);
    expect(JSON.parse(first.body)).toEqual({ slug: "Winterfell", text: "[north]", revision: 2 });
    expect(readSnapshot(page).etag).toBe(first.etag);
  });

  it("follows every change of the document, a peer's update as much as a local edit", () => {
    const page = pageWith("[north]");
    const before = readSnapshot(page).etag;
    const peer = new Y.Doc();
    Y.applyUpdate(peer, Y.encodeStateAsUpdate(page.doc));
    peer.getText("body").insert(0, "[wolf]");
    Y.applyUpdate(page.doc, Y.encodeStateAsUpdate(peer, Y.encodeStateVector(page.doc)), { kind: "peer" });
    const afterPeer = readSnapshot(page);
    expect(JSON.parse(afterPeer.body).text).toBe("[wolf][north]");
    expect(afterPeer.etag).not.toBe(before);

    page.doc.getText("body").delete(0, "[wolf]".length);
    expect(JSON.parse(readSnapshot(page).body).text).toBe("[north]");
  });

  it("follows a new revision named by the origin, with the text unchanged", () => {
    const page = pageWith("[north]");
    const before = readSnapshot(page).etag;
    page.revision = 3;
    const after = readSnapshot(page);
    expect(JSON.parse(after.body).revision).toBe(3);
    expect(after.etag).not.toBe(before);
  });
});
