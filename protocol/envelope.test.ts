import * as encoding from "lib0/encoding";
import { describe, expect, it } from "vitest";
import { decodeEnvelope, encodeEnvelope, EnvelopeType } from "./envelope";

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
      const envelope = { type: "update", replica: "eu-1", slug: "Winterfell", update, edits: authors.length, authors } as const;
      expect(decodeEnvelope(encodeEnvelope(envelope))).toEqual(envelope);
    }
  });

  it("still read a one-author envelope written before merged envelopes (a PoP log's old entries)", () => {
    expect(decodeEnvelope(oneAuthorEnvelope())).toMatchObject({ type: "update", edits: 1, authors: ["Hodor"] });
  });

  it("refuses an author count no tick could produce, before reading it", () => {
    const tooMany = oneAuthorEnvelope((encoder) => encoding.writeVarUint(encoder, 2 ** 30));
    expect(() => decodeEnvelope(tooMany)).toThrow(/names 1073741825 authors/);
  });
});
