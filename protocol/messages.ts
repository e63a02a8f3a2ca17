import * as decoding from "lib0/decoding";
import * as encoding from "lib0/encoding";

/**
 * The client <-> edge wire format: y-websocket's framing (y-protocols
 * sync.js, awareness.js, auth.js), plus Weirwood's opt-in extensions, which
 * an edge sends only to a client that asked for them in its URL
 * (`?ext=weirwood`): a stock client never sees a type it cannot read.
 * Byte-level specification: protocol/PROTOCOL.md.
 */
export const MessageType = {
  sync: 0,
  awareness: 1,
  auth: 2,
  queryAwareness: 3,
  /** Extension: an edge acknowledges a client's update message. */
  ack: 100,
  /** Extension: the edge says who it is and what the client may do. */
  session: 101,
} as const;

export const SyncStep = { step1: 0, step2: 1, update: 2 } as const;

/** y-protocols auth.js: the only auth message is "permission denied". */
export const AUTH_PERMISSION_DENIED = 0;

/** How far an acknowledged update has travelled, in order. */
export const Durability = { edge: 0, pop: 1, origin: 2 } as const;
export type DurabilityLevel = keyof typeof Durability;
export const DURABILITY_LEVELS = Object.keys(Durability) as DurabilityLevel[];

export type Role = "reader" | "editor" | "admin";
const ROLES: Role[] = ["reader", "editor", "admin"];

export type Message =
  | { type: "sync-step-1"; stateVector: Uint8Array }
  | { type: "sync-step-2"; update: Uint8Array }
  | { type: "update"; update: Uint8Array }
  | { type: "awareness"; update: Uint8Array }
  | { type: "auth-denied"; reason: string }
  | { type: "query-awareness" }
  | { type: "ack"; seq: number; durability: DurabilityLevel }
  | { type: "session"; pop: string; replica: string; durability: DurabilityLevel; role: Role; canWrite: boolean };

export class ProtocolError extends Error {
  override name = "ProtocolError";
}

/**
 * Decodes one WebSocket message. Throws ProtocolError for anything that is
 * not exactly one well-formed message: unknown types, truncation, trailing
 * bytes. Yjs payloads are returned as bytes; applying them is the caller's.
 */
export function decodeMessage(bytes: Uint8Array): Message {
  const decoder = decoding.createDecoder(bytes);
  try {
    const message = readMessage(decoder);
    if (decoding.hasContent(decoder)) {
      throw new ProtocolError(`${bytes.byteLength - decoder.pos} trailing bytes after a ${message.type} message`);
    }
    return message;
  } catch (error) {
    if (error instanceof ProtocolError) throw error;
    throw new ProtocolError(`truncated or malformed message (${(error as Error).message})`, { cause: error });
  }
}

function readMessage(decoder: decoding.Decoder): Message {
  const type = decoding.readVarUint(decoder);
  switch (type) {
    case MessageType.sync: {
      const step = decoding.readVarUint(decoder);
      const payload = decoding.readVarUint8Array(decoder);
      switch (step) {
        case SyncStep.step1:
          return { type: "sync-step-1", stateVector: payload };
        case SyncStep.step2:
          return { type: "sync-step-2", update: payload };
        case SyncStep.update:
          return { type: "update", update: payload };
        default:
          throw new ProtocolError(`unknown sync step ${step}`);
      }
    }
    case MessageType.awareness:
      return { type: "awareness", update: decoding.readVarUint8Array(decoder) };
    case MessageType.auth: {
      const kind = decoding.readVarUint(decoder);
      if (kind !== AUTH_PERMISSION_DENIED) throw new ProtocolError(`unknown auth message ${kind}`);
      return { type: "auth-denied", reason: decoding.readVarString(decoder) };
    }
    case MessageType.queryAwareness:
      return { type: "query-awareness" };
    case MessageType.ack: {
      const seq = decoding.readVarUint(decoder);
      return { type: "ack", seq, durability: durabilityOf(decoding.readVarUint(decoder)) };
    }
    case MessageType.session: {
      const pop = decoding.readVarString(decoder);
      const replica = decoding.readVarString(decoder);
      const durability = durabilityOf(decoding.readVarUint(decoder));
      const role = ROLES[decoding.readVarUint(decoder)];
      if (!role) throw new ProtocolError("unknown role in session message");
      const canWrite = decoding.readUint8(decoder) === 1;
      return { type: "session", pop, replica, durability, role, canWrite };
    }
    default:
      throw new ProtocolError(`unknown message type ${type}`);
  }
}

function durabilityOf(level: number): DurabilityLevel {
  const name = DURABILITY_LEVELS[level];
  if (!name) throw new ProtocolError(`unknown durability level ${level}`);
  return name;
}

/** Encodes one message; the inverse of decodeMessage. */
export function encodeMessage(message: Message): Uint8Array {
  const encoder = encoding.createEncoder();
  switch (message.type) {
    case "sync-step-1":
      writeSync(encoder, SyncStep.step1, message.stateVector);
      break;
    case "sync-step-2":
      writeSync(encoder, SyncStep.step2, message.update);
      break;
    case "update":
      writeSync(encoder, SyncStep.update, message.update);
      break;
    case "awareness":
      encoding.writeVarUint(encoder, MessageType.awareness);
      encoding.writeVarUint8Array(encoder, message.update);
      break;
    case "auth-denied":
      encoding.writeVarUint(encoder, MessageType.auth);
      encoding.writeVarUint(encoder, AUTH_PERMISSION_DENIED);
      encoding.writeVarString(encoder, message.reason);
      break;
    case "query-awareness":
      encoding.writeVarUint(encoder, MessageType.queryAwareness);
      break;
    case "ack":
      encoding.writeVarUint(encoder, MessageType.ack);
      encoding.writeVarUint(encoder, message.seq);
      encoding.writeVarUint(encoder, Durability[message.durability]);
      break;
    case "session":
      encoding.writeVarUint(encoder, MessageType.session);
      encoding.writeVarString(encoder, message.pop);
      encoding.writeVarString(encoder, message.replica);
      encoding.writeVarUint(encoder, Durability[message.durability]);
      encoding.writeVarUint(encoder, ROLES.indexOf(message.role));
      encoding.writeUint8(encoder, message.canWrite ? 1 : 0);
      break;
    default:
      message satisfies never;
      throw new Error(`cannot encode ${JSON.stringify(message)}`);
  }
  return encoding.toUint8Array(encoder);
}

function writeSync(encoder: encoding.Encoder, step: number, payload: Uint8Array): void {
  encoding.writeVarUint(encoder, MessageType.sync);
  encoding.writeVarUint(encoder, step);
  encoding.writeVarUint8Array(encoder, payload);
}
