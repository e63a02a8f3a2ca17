import { describe, expect, it } from "vitest";
import * as Y from "yjs";
import type { Slug } from "../../common/slug";
import { checkClientIds, screenRemote, takeFromOrigin } from "./client-ids";
import { Page } from "./page";

function typedUnder(clientID: number, text: string, base?: Uint8Array): Uint8Array {
  const doc = new Y.Doc();
  if (base) Y.applyUpdate(doc, base);
  doc.clientID = clientID;
  const before = Y.encodeStateVector(doc);
  doc.getText("body").insert(doc.getText("body").length, text);
  return Y.encodeStateAsUpdate(doc, before);
}

function pageWith(...updates: Uint8Array[]): Page {
  const page = new Page("Braavos" as Slug, { protection: "none", originVector: new Uint8Array([0]), revision: 0 });
  for (const update of updates) Y.applyUpdate(page.doc, update);
  return page;
}

const typing = { whole: true, claims: () => true };
const resync = { whole: false, claims: () => false };

describe("client ids of a writer's update", () => {
  it("the first writer under an id claims it; another user's new structs under it are refused whole", () => {
    const page = pageWith();
    const first = typedUnder(9, "a girl");
    expect(checkClientIds(page, first, "Arya", typing)).toEqual({ kind: "accepted", update: first });
    Y.applyUpdate(page.doc, first);
    expect(page.claims.owner(9)).toBe("Arya");
    const verdict = checkClientIds(page, typedUnder(9, " has no name", first), "Jaqen", typing);
    expect(verdict).toMatchObject({ kind: "refused", refusal: { reason: "claimed", clients: [9] } });
    expect(checkClientIds(page, typedUnder(9, " has no name", first), "Arya", typing).kind).toBe("accepted");
  });

  it("other content at clocks the page holds is refused, an honest resend is not, even from another user", () => {
    const first = typedUnder(9, "winter");
    const page = pageWith(first);
    page.claims.claim([9], "Arya");
    expect(checkClientIds(page, typedUnder(9, "summer"), "Arya", typing)).toMatchObject({ kind: "refused", refusal: { reason: "conflict", clients: [9] } });
    expect(checkClientIds(page, first, "Arya", typing)).toEqual({ kind: "accepted", update: first });
    // A sync step 2 relaying what the page already has is no claim on it.
    expect(checkClientIds(page, first, "Sansa", resync)).toEqual({ kind: "accepted", update: first });
  });

  it("a sync step 2 keeps the client's own structs and leaves out the ones the page refuses", () => {
    const theirs = typedUnder(9, "a girl");
    const page = pageWith(theirs);
    page.claims.claim([9], "Arya");
    const forged = typedUnder(9, " has no name", theirs);
    const own = typedUnder(12, "!", theirs);
    const verdict = checkClientIds(page, Y.mergeUpdates([forged, own]), "Jaqen", { whole: false, claims: (client) => client === 12 });
    expect(verdict).toMatchObject({ kind: "accepted", leftOut: { reason: "claimed", clients: [9] } });
    Y.applyUpdate(page.doc, verdict.kind === "accepted" ? verdict.update : new Uint8Array());
    expect(Y.getState(page.doc.store, 9)).toBe(6);
    expect(Y.getState(page.doc.store, 12)).toBe(1);
    expect(page.claims.owner(12)).toBe("Jaqen");
  });

  it("a sync step 2 claims no id the connection does not speak for", () => {
    const page = pageWith();
    expect(checkClientIds(page, typedUnder(4, "relayed"), "Sansa", resync).kind).toBe("accepted");
    expect(page.claims.owner(4)).toBeUndefined();
  });
});

describe("a remote update", () => {
  it("leaves out the structs that disagree with the page and learns the first claim", () => {
    const page = pageWith(typedUnder(9, "winter"));
    page.claims.claim([9], "Arya");
    const screened = screenRemote(
      page,
      Y.mergeUpdates([typedUnder(9, "summer!"), typedUnder(3, "snow")]),
      [
        [9, "Jaqen"],
        [3, "Jon"],
      ],
    );
    expect(screened.conflicting).toEqual([9]);
    expect(screened.disputed).toEqual([9]);
    Y.applyUpdate(page.doc, screened.update);
    expect(page.doc.getText("body").toString()).toMatch(/^(wintersnow|snowwinter)$/);
    expect(page.claims.owner(3)).toBe("Jon");
    expect(page.claims.owner(9)).toBe("Arya");
  });
});

describe("the origin's page, taken after every commit of another PoP", () => {
  /** What the replica does (ClientIdScreening.applyFromOrigin): compare, apply whole, mark. */
  const take = (page: Page, update: Uint8Array) => takeFromOrigin(page, update, () => Y.applyUpdate(page.doc, update));

  it("is compared with the page once per clock: a disagreement is found once, and one at clocks new to both is still found", () => {
    const winter = typedUnder(9, "winter");
    const page = pageWith(winter);
    const originPage = (...updates: Uint8Array[]) => Y.mergeUpdates([typedUnder(3, "snow"), ...updates]);
    expect(take(page, originPage(typedUnder(9, "summer")))).toEqual([9]);
    // The same clocks again: already compared, they disagree for good and are not counted twice.
    expect(take(page, originPage(typedUnder(9, "summer")))).toEqual([]);
    expect(page.comparedWithOrigin.get(9)).toBe(6);

    // Both go on under 9, differently, at clocks neither compared yet.
    Y.applyUpdate(page.doc, typedUnder(9, " is", winter));
    expect(take(page, originPage(typedUnder(9, "winter at")))).toEqual([9]);
    expect(page.comparedWithOrigin.get(9)).toBe(9);
    // Agreeing clocks are marked as compared too, so the next pull skips them.
    expect(take(page, originPage(typedUnder(9, "winter at")))).toEqual([]);
  });

  it("marks what the page took from the origin as compared: the next pull need not bring it again", () => {
    const page = pageWith(typedUnder(9, "winter"));
    take(page, Y.mergeUpdates([typedUnder(9, "winter"), typedUnder(3, "snow")]));
    expect(page.doc.getText("body").toString()).toMatch(/snow/);
    expect(page.comparedWithOrigin.get(3)).toBe(4);
    expect(page.comparedWithOrigin.get(9)).toBe(6);
  });
});
