import * as encoding from "lib0/encoding";
import { describe, expect, it } from "vitest";
import { type ClientClaimList, decodeEnvelope, type Envelope, encodeEnvelope, EnvelopeType } from "./envelope";

const update = new Uint8Array([0, 0]);

/** An update envelope as written before merged envelopes: one author; `then` writes what follows it. */
function oneAuthorEnvelope(then: (encoder: encoding.Encoder) => void = () => {}): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, EnvelopeType.update);
  encoding.writeVarString(encoder, "eu-1");
  encoding.writeVarString(encoder, "Winterfell");
  encoding.writeVarUint8Array(encoder, update);
  encoding.writeVarUint(encoder, 1);
  encoding.writeVarString(encoder, "Hodor");
  then(encoder);
  return encoding.toUint8Array(encoder);
}

describe("update envelopes", () => {
  it("carry one tick's merged updates with all their authors", () => {
    for (const authors of [[], ["Arya"], ["Arya", "Sansa", "Bran"]]) {
      const envelope: Envelope = { type: "update", replica: "eu-1", slug: "Winterfell", update, edits: authors.length, authors, claims: [] };
      expect(decodeEnvelope(encodeEnvelope(envelope))).toEqual(envelope);
    }
  });

  it("carry whose each client id is, whatever the number of authors (issue 18)", () => {
    for (const authors of [[], ["Arya"], ["Arya", "Sansa"]]) {
      const claims: ClientClaimList = [
        [1234567890, "Arya"],
        [7, "Sansa"],
      ];
      const envelope: Envelope = { type: "update", replica: "eu-1", slug: "Winterfell", update, edits: 2, authors, claims };
      expect(decodeEnvelope(encodeEnvelope(envelope))).toEqual(envelope);
    }
    const relay: Envelope = { type: "relay", replica: "eu-1", pop: "eu", slug: "Winterfell", update, claims: [[7, "Sansa"]] };
    expect(decodeEnvelope(encodeEnvelope(relay))).toEqual(relay);
  });

  it("still read a one-author envelope written before merged envelopes (a PoP log's old entries)", () => {
    expect(decodeEnvelope(oneAuthorEnvelope())).toMatchObject({ type: "update", edits: 1, authors: ["Hodor"], claims: [] });
  });

  it("refuses an author count no tick could produce, before reading it", () => {
    const tooMany = oneAuthorEnvelope((encoder) => encoding.writeVarUint(encoder, 2 ** 30));
    expect(() => decodeEnvelope(tooMany)).toThrow(/names 1073741825 authors/);
  });
});
