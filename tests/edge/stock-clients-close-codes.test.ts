import { describe, expect, it } from "vitest";
import WebSocket from "ws";
import { WebsocketProvider } from "y-websocket";
import * as Y from "yjs";
import { CloseCode, type CloseCodeName, isPermanentClose } from "../../protocol/close-codes";

/**
 * The close codes after which reconnecting unchanged cannot help: a client
 * bug, a refused token, a blocked account (refused again until an admin
 * lifts the block), or an edit refused for its content (a page past its
 * size limit: the same edit is refused again) (PROTOCOL.md).
 */
const PERMANENT: readonly CloseCodeName[] = ["badMessage", "unauthorized", "badPage", "messageTooLarge", "pageTooLarge", "presenceTooLarge", "blocked", "pageDeleted", "pageMoved"];

describe("the edge's close codes, as a stock y-websocket 3.x provider reads them", () => {
  const provider = new WebsocketProvider("ws://127.0.0.1:9", "Moat_Cailin", new Y.Doc(), {
    WebSocketPolyfill: WebSocket as never,
    connect: false,
    disableBc: true,
  });
  const reconnects = (code: number) => provider.shouldReconnect({ code, reason: "" } as CloseEvent, provider);

  it.each(Object.entries(CloseCode))("%s (%i) is permanent only if it is a client bug, a refused token, a block or a refused edit", (name, code) => {
    const permanent = PERMANENT.includes(name as CloseCodeName);
    expect(reconnects(code)).toBe(!permanent);
    expect(isPermanentClose(code)).toBe(permanent);
  });
});
