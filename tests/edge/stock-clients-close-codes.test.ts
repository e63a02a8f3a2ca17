import { describe, expect, it } from "vitest";
import WebSocket from "ws";
import { WebsocketProvider } from "y-websocket";
import * as Y from "yjs";
import { CloseCode, type CloseCodeName, isPermanentClose } from "../../protocol/close-codes";

/**
 * The close codes after which reconnecting unchanged cannot help: a client
 * bug, a refused token, a blocked account (refused again until an admin
 * lifts the block), an edit refused for its content (a page past its size
 * limit: the same edit is refused again), or a page that is gone under
 * this name: deleted (refused until an admin undeletes it) or moved (the
 * wiki's editor follows the move itself) (PROTOCOL.md).
 */
const PERMANENT: readonly CloseCodeName[] = ["badMessage", "unauthorized", "badPage", "messageTooLarge", "pageTooLarge", "presenceTooLarge", "blocked", "pageDeleted", "pageMoved"];

describe("the edge's close codes, as a stock y-websocket 3.x provider reads them", () => {
  const provider = new WebsocketProvider("ws://127.0.0.1:9", "Moat_Cailin", new Y.Doc(), {
    WebSocketPolyfill: WebSocket as never,
    connect: false,
    disableBc: true,
  });
  const reconnects = (code: number) => provider.shouldReconnect({ code, reason: "" } as CloseEvent, provider);

  it.each(Object.entries(CloseCode))("%s (%i) is permanent only if it is a client bug, a refused token, a block, a refused edit, or a deleted or moved page", (name, code) => {
    const permanent = PERMANENT.includes(name as CloseCodeName);
    expect(reconnects(code)).toBe(!permanent);
    expect(isPermanentClose(code)).toBe(permanent);
  });
});
