import type { Duplex } from "node:stream";
import type { WebSocket } from "ws";

/**
 * A fan-out window as it goes on the wire: its messages, and the same
 * messages already framed as unmasked binary WebSocket frames (RFC 6455
 * 5.2), back to back in one buffer built once for every socket of a page.
 */
export interface FramedWindow {
  readonly messages: readonly Uint8Array[];
  readonly frames: Buffer;
}

export function framedWindow(messages: Uint8Array[]): FramedWindow {
  let size = 0;
  for (const message of messages) size += headerLength(message.byteLength) + message.byteLength;
  const frames = Buffer.allocUnsafe(size);
  let at = 0;
  for (const message of messages) {
    at = writeHeader(frames, at, message.byteLength);
    frames.set(message, at);
    at += message.byteLength;
  }
  return { messages, frames };
}

function headerLength(length: number): number {
  return length < 126 ? 2 : length < 0x10000 ? 4 : 10;
}

/** FIN + binary opcode, then the payload length in 7, 7+16 or 7+64 bits; a server never masks. Returns where the payload goes. */
function writeHeader(target: Buffer, at: number, length: number): number {
  target[at] = 0x82;
  if (length < 126) {
    target[at + 1] = length;
    return at + 2;
  }
  if (length < 0x10000) {
    target[at + 1] = 126;
    target.writeUInt16BE(length, at + 2);
    return at + 4;
  }
  target[at + 1] = 127;
  target.writeBigUInt64BE(BigInt(length), at + 2);
  return at + 10;
}

/**
 * Writes a window to one client in one write. Measured (docs/benchmarks.md,
 * "Fan-out micro-benchmark"): with a thousand clients on a page the edge
 * spends its time in writev, one per `ws.send`, plus a header per socket;
 * an update and a presence message per window were two of each. ws has no
 * public way to send pre-framed bytes, so this writes to its TCP socket, as
 * engine.io does for broadcasts (its `wsPreEncodedFrame`). That is safe
 * because this server never enables permessage-deflate and never sends
 * Blobs, the only cases in which ws queues a frame instead of writing it
 * at once (ws lib/sender.js), so nothing of ws's can be overtaken; and ws
 * counts what is written there in `bufferedAmount`. Falls back to
 * `ws.send` where the socket is not reachable.
 */
export function writeWindow(socket: WebSocket, window: FramedWindow): void {
  const tcp = (socket as unknown as { _socket?: Duplex })._socket;
  if (tcp && typeof tcp.write === "function") {
    tcp.write(window.frames);
    return;
  }
  for (const message of window.messages) socket.send(message);
}

/**
 * Writes one message for this client alone (an ack, a sync answer) the
 * same way, framed in one buffer: `ws.send` writes a frame's header and
 * payload as two buffers under cork, one writev per message, and an edge
 * at 5,000 edits/s writes an ack for each (writev was 5.7% of the edges'
 * CPU in the open-loop profile of docs/benchmarks.md, 2026-12-04 23:20).
 */
export function writeMessage(socket: WebSocket, message: Uint8Array): void {
  writeWindow(socket, framedWindow([message]));
}
