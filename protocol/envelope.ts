import * as decoding from "lib0/decoding";
import * as encoding from "lib0/encoding";
import { ProtocolError } from "./messages";

/**
 * What replicas (and the origin) say to each other over the broker. Every
 * envelope names its sender, so a replica drops its own echoes. Byte layout
 * in protocol/PROTOCOL.md; one union, one switch.
 */
export const EnvelopeType = {
  update: 0,
  "sync-request": 1,
  "sync-reply": 2,
  awareness: 3,
  heartbeat: 4,
  flushed: 5,
  "page-changed": 6,
  hold: 7,
  relay: 8,
  checkpoint: 9,
} as const satisfies Record<Envelope["type"], number>;

/**
 * The PoP a page-changed notice names when no PoP's flush changed the pages
 * but the origin itself (an admin's protection change): every replica
 * holding them asks the origin, not only their flusher. No PoP may take the
 * name (edge/config.ts).
 */
export const ORIGIN_POP = "origin";

/** Authors one update envelope may name: a tick's worth of a hot page's editors, with room. */
const MAX_AUTHORS = 100_000;

/** Client id claims one envelope may carry (a page's every writer, in a sync reply). */
const MAX_CLAIMS = 1_000_000;

/**
 * Which user each Yjs client id of the update's structs belongs to (issue
 * 18: a client id is one writer's on a page), so that every replica learns
 * the claims with the structs.
 */
export type ClientClaimList = [client: number, user: string][];

export type ReplicaState = "up" | "draining" | "gone";
const REPLICA_STATES: ReplicaState[] = ["up", "draining", "gone"];

export type Envelope =
  /** Yjs updates a replica applied (one tick's, merged); `edits`/`authors` feed the revision's counts. */
  | { type: "update"; replica: string; slug: string; update: Uint8Array; edits: number; authors: string[]; claims: ClientClaimList }
  /** "Send me what I lack": answered with a sync-reply by replicas holding the page. */
  | { type: "sync-request"; replica: string; slug: string; stateVector: Uint8Array }
  | {
      type: "sync-reply";
      replica: string;
      slug: string;
      update: Uint8Array;
      stateVector: Uint8Array;
      /** What the answering replica knows of the page at the origin, so a bootstrap needs no origin read. */
      protection: "none" | "admin";
      originVector: Uint8Array;
      revision: number;
      /** The claims of the client ids in `update` (all of them for a bootstrap). */
      claims: ClientClaimList;
    }
  | { type: "awareness"; replica: string; slug: string; update: Uint8Array }
  | {
      type: "heartbeat";
      replica: string;
      pop: string;
      url: string;
      state: ReplicaState;
      connections: number;
      pages: number;
      /** Where the replica serves /metrics and /healthz. */
      httpUrl: string;
    }
  /** The page's flusher got the origin's commit: the origin now has `stateVector`. */
  | { type: "flushed"; replica: string; slug: string; stateVector: Uint8Array; revision: number }
  /**
   * The origin committed pages for `pop`; other PoPs pull them at once. With
   * `pop` ORIGIN_POP, the origin itself changed them (their protection).
   */
  | { type: "page-changed"; replica: string; pop: string; slugs: string[] }
  /** "You flush this page: hold it", sent to a page's flusher by a replica that loaded it. */
  | { type: "hold"; replica: string; slug: string }
  /** A client's update, relayed live to the other PoPs holding the page (theirs to show, not to flush). */
  | { type: "relay"; replica: string; pop: string; slug: string; update: Uint8Array; claims: ClientClaimList }
  /**
   * A page's whole state as a replica held it after an origin commit (or
   * before its first entry in the PoP log), with what it knew of the origin:
   * a PoP whose replicas all died rebuilds the page from it and the log's
   * later entries while the origin is down.
   */
  | {
      type: "checkpoint";
      replica: string;
      slug: string;
      state: Uint8Array;
      protection: "none" | "admin";
      originVector: Uint8Array;
      revision: number;
      /** Every client id claim the replica knew for the page. */
      claims: ClientClaimList;
    };

export function encodeEnvelope(envelope: Envelope): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, EnvelopeType[envelope.type]);
  encoding.writeVarString(encoder, envelope.replica);
  switch (envelope.type) {
    case "update":
      encoding.writeVarString(encoder, envelope.slug);
      encoding.writeVarUint8Array(encoder, envelope.update);
      encoding.writeVarUint(encoder, envelope.edits);
      // The first author where a one-author envelope always had it, then
      // any others: entries in a PoP log written before merged envelopes
      // still decode.
      encoding.writeVarString(encoder, envelope.authors[0] ?? "");
      if (envelope.authors.length > 1 || envelope.claims.length > 0) {
        encoding.writeVarUint(encoder, Math.max(0, envelope.authors.length - 1));
        for (const author of envelope.authors.slice(1)) encoding.writeVarString(encoder, author);
      }
      // Last and optional, so that entries logged before claims still decode.
      if (envelope.claims.length > 0) writeClaims(encoder, envelope.claims);
      break;
    case "sync-request":
      encoding.writeVarString(encoder, envelope.slug);
      encoding.writeVarUint8Array(encoder, envelope.stateVector);
      break;
    case "sync-reply":
      encoding.writeVarString(encoder, envelope.slug);
      encoding.writeVarUint8Array(encoder, envelope.update);
      encoding.writeVarUint8Array(encoder, envelope.stateVector);
      encoding.writeVarUint(encoder, envelope.protection === "admin" ? 1 : 0);
      encoding.writeVarUint8Array(encoder, envelope.originVector);
      encoding.writeVarUint(encoder, envelope.revision);
      writeClaims(encoder, envelope.claims);
      break;
    case "awareness":
      encoding.writeVarString(encoder, envelope.slug);
      encoding.writeVarUint8Array(encoder, envelope.update);
      break;
    case "heartbeat":
      encoding.writeVarString(encoder, envelope.pop);
      encoding.writeVarString(encoder, envelope.url);
      encoding.writeVarUint(encoder, REPLICA_STATES.indexOf(envelope.state));
      encoding.writeVarUint(encoder, envelope.connections);
      encoding.writeVarUint(encoder, envelope.pages);
      encoding.writeVarString(encoder, envelope.httpUrl);
      break;
    case "flushed":
      encoding.writeVarString(encoder, envelope.slug);
      encoding.writeVarUint8Array(encoder, envelope.stateVector);
      encoding.writeVarUint(encoder, envelope.revision);
      break;
    case "hold":
      encoding.writeVarString(encoder, envelope.slug);
      break;
    case "relay":
      encoding.writeVarString(encoder, envelope.pop);
      encoding.writeVarString(encoder, envelope.slug);
      encoding.writeVarUint8Array(encoder, envelope.update);
      writeClaims(encoder, envelope.claims);
      break;
    case "checkpoint":
      encoding.writeVarString(encoder, envelope.slug);
      encoding.writeVarUint8Array(encoder, envelope.state);
      encoding.writeVarUint(encoder, envelope.protection === "admin" ? 1 : 0);
      encoding.writeVarUint8Array(encoder, envelope.originVector);
      encoding.writeVarUint(encoder, envelope.revision);
      writeClaims(encoder, envelope.claims);
      break;
    case "page-changed":
      encoding.writeVarString(encoder, envelope.pop);
      encoding.writeVarUint(encoder, envelope.slugs.length);
      for (const slug of envelope.slugs) encoding.writeVarString(encoder, slug);
      break;
    default:
      envelope satisfies never;
  }
  return encoding.toUint8Array(encoder);
}

/** Decodes one envelope; throws ProtocolError on anything else. */
export function decodeEnvelope(bytes: Uint8Array): Envelope {
  const decoder = decoding.createDecoder(bytes);
  let envelope: Envelope;
  try {
    envelope = readEnvelope(decoder);
  } catch (error) {
    if (error instanceof ProtocolError) throw error;
    throw new ProtocolError(`truncated or malformed envelope (${(error as Error).message})`, { cause: error });
  }
  if (decoding.hasContent(decoder)) throw new ProtocolError(`trailing bytes after a ${envelope.type} envelope`);
  return envelope;
}

function readEnvelope(decoder: decoding.Decoder): Envelope {
  const type = decoding.readVarUint(decoder);
  const replica = decoding.readVarString(decoder);
  switch (type) {
    case EnvelopeType.update: {
      const slug = decoding.readVarString(decoder);
      const update = decoding.readVarUint8Array(decoder);
      const edits = decoding.readVarUint(decoder);
      const first = decoding.readVarString(decoder);
      const authors = first ? [first] : [];
      if (decoding.hasContent(decoder)) {
        const more = decoding.readVarUint(decoder);
        if (more > MAX_AUTHORS) throw new ProtocolError(`an update envelope names ${more + 1} authors (at most ${MAX_AUTHORS + 1})`);
        for (let i = 0; i < more; i++) authors.push(decoding.readVarString(decoder));
      }
      const claims = decoding.hasContent(decoder) ? readClaims(decoder) : [];
      return { type: "update", replica, slug, update, edits, authors, claims };
    }
    case EnvelopeType["sync-request"]:
      return { type: "sync-request", replica, slug: decoding.readVarString(decoder), stateVector: decoding.readVarUint8Array(decoder) };
    case EnvelopeType["sync-reply"]:
      return {
        type: "sync-reply",
        replica,
        slug: decoding.readVarString(decoder),
        update: decoding.readVarUint8Array(decoder),
        stateVector: decoding.readVarUint8Array(decoder),
        protection: decoding.readVarUint(decoder) === 1 ? "admin" : "none",
        originVector: decoding.readVarUint8Array(decoder),
        revision: decoding.readVarUint(decoder),
        claims: decoding.hasContent(decoder) ? readClaims(decoder) : [],
      };
    case EnvelopeType.awareness:
      return { type: "awareness", replica, slug: decoding.readVarString(decoder), update: decoding.readVarUint8Array(decoder) };
    case EnvelopeType.heartbeat: {
      const pop = decoding.readVarString(decoder);
      const url = decoding.readVarString(decoder);
      const state = REPLICA_STATES[decoding.readVarUint(decoder)];
      if (!state) throw new ProtocolError("unknown replica state in heartbeat");
      return {
        type: "heartbeat",
        replica,
        pop,
        url,
        state,
        connections: decoding.readVarUint(decoder),
        pages: decoding.readVarUint(decoder),
        httpUrl: decoding.readVarString(decoder),
      };
    }
    case EnvelopeType.flushed:
      return {
        type: "flushed",
        replica,
        slug: decoding.readVarString(decoder),
        stateVector: decoding.readVarUint8Array(decoder),
        revision: decoding.readVarUint(decoder),
      };
    case EnvelopeType["page-changed"]: {
      const pop = decoding.readVarString(decoder);
      const count = decoding.readVarUint(decoder);
      const slugs: string[] = [];
      for (let i = 0; i < count; i++) slugs.push(decoding.readVarString(decoder));
      return { type: "page-changed", replica, pop, slugs };
    }
    case EnvelopeType.hold:
      return { type: "hold", replica, slug: decoding.readVarString(decoder) };
    case EnvelopeType.relay:
      return {
        type: "relay",
        replica,
        pop: decoding.readVarString(decoder),
        slug: decoding.readVarString(decoder),
        update: decoding.readVarUint8Array(decoder),
        claims: decoding.hasContent(decoder) ? readClaims(decoder) : [],
      };
    case EnvelopeType.checkpoint:
      return {
        type: "checkpoint",
        replica,
        slug: decoding.readVarString(decoder),
        state: decoding.readVarUint8Array(decoder),
        protection: decoding.readVarUint(decoder) === 1 ? "admin" : "none",
        originVector: decoding.readVarUint8Array(decoder),
        revision: decoding.readVarUint(decoder),
        claims: decoding.hasContent(decoder) ? readClaims(decoder) : [],
      };
    default:
      throw new ProtocolError(`unknown envelope type ${type}`);
  }
}

function writeClaims(encoder: encoding.Encoder, claims: ClientClaimList): void {
  encoding.writeVarUint(encoder, claims.length);
  for (const [client, user] of claims) {
    encoding.writeVarUint(encoder, client);
    encoding.writeVarString(encoder, user);
  }
}

function readClaims(decoder: decoding.Decoder): ClientClaimList {
  const count = decoding.readVarUint(decoder);
  if (count > MAX_CLAIMS) throw new ProtocolError(`an envelope carries ${count} client id claims (at most ${MAX_CLAIMS})`);
  const claims: ClientClaimList = [];
  for (let i = 0; i < count; i++) claims.push([decoding.readVarUint(decoder), decoding.readVarString(decoder)]);
  return claims;
}
