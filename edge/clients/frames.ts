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
  const parts: Uint8Array[] = [];
  for (const message of messages) parts.push(frameHeader(message.byteLength), message);
  return { messages, frames: Buffer.concat(parts) };
}

/** FIN + binary opcode, then the payload length in 7, 7+16 or 7+64 bits; a server never masks. */
function frameHeader(length: number): Buffer {
  if (length < 126) return Buffer.from([0x82, length]);
  if (length < 0x10000) {
    const header = Buffer.alloc(4);
    header[0] = 0x82;
    header[1] = 126;
    header.writeUInt16BE(length, 2);
    return header;
  }
  const header = Buffer.alloc(10);
  header[0] = 0x82;
  header[1] = 127;
  header.writeBigUInt64BE(BigInt(length), 2);
  return header;
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
