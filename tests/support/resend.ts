import WebSocket from "ws";
import * as Y from "yjs";
import { decodeMessage, type DurabilityLevel, encodeMessage } from "../../protocol/messages";

/**
 * What every y-websocket client does when it reconnects: answers the
 * edge's sync step 1 with everything it holds that the edge lacks (its
 * sync step 2, update message number 1). Resolves with that message's
 * acknowledgement, or rejects when the edge closes first.
 */
export async function resendOnReconnect(options: { url: string; slug: string; token: string; doc: Y.Doc }): Promise<DurabilityLevel> {
  const query = new URLSearchParams({ token: options.token, ext: "weirwood" });
  const socket = new WebSocket(`${options.url}/${encodeURIComponent(options.slug)}?${query}`);
  socket.binaryType = "nodebuffer";
  try {
    return await new Promise<DurabilityLevel>((resolve, reject) => {
      socket.on("error", reject);
      socket.on("close", (code, reason) => reject(new Error(`closed ${code} ${reason.toString()} before the resend's ack`)));
      socket.on("message", (data: Buffer) => {
        const message = decodeMessage(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
        if (message.type === "sync-step-1") {
          socket.send(encodeMessage({ type: "sync-step-2", update: Y.encodeStateAsUpdate(options.doc, message.stateVector) }));
        } else if (message.type === "ack" && message.seq === 1) {
          resolve(message.durability);
        }
      });
    });
  } finally {
    socket.terminate();
  }
}
