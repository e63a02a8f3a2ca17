import { HocuspocusProvider, HocuspocusProviderWebsocket } from "@hocuspocus/provider";
import WebSocket from "ws";
import { WebsocketProvider } from "y-websocket";
import * as Y from "yjs";

/** Which stock provider a system's clients use: each system is driven through its own. */
export type ProviderKind = "y-websocket" | "hocuspocus";

/**
 * One client of a system as its users would write it: a Y.Doc whose text
 * `body` is kept in sync by the system's own stock provider. In Node each
 * provider is given `ws` as its WebSocket, as both providers' docs say.
 */
export interface StockClient {
  readonly doc: Y.Doc;
  readonly text: Y.Text;
  /** Resolves at the provider's first complete sync with the server. */
  readonly synced: Promise<void>;
  destroy(): void;
}

export function connectStockClient(options: { kind: ProviderKind; url: string; slug: string; token: string }): StockClient {
  const doc = new Y.Doc();
  const text = doc.getText("body");
  switch (options.kind) {
    case "y-websocket": {
      // disableBc: without it two providers in one process sync over BroadcastChannel and bypass the server.
      const provider = new WebsocketProvider(options.url, options.slug, doc, { WebSocketPolyfill: WebSocket as never, params: { token: options.token }, disableBc: true });
      const synced = new Promise<void>((resolve) => {
        const onSync = (isSynced: boolean) => {
          if (!isSynced) return;
          provider.off("sync", onSync);
          resolve();
        };
        provider.on("sync", onSync);
      });
      return { doc, text, synced, destroy: () => provider.destroy() };
    }
    case "hocuspocus": {
      // The provider's own `url` option has no WebSocket polyfill; a socket
      // provider of our own does, and then the document provider must attach to it.
      const socket = new HocuspocusProviderWebsocket({ url: options.url, WebSocketPolyfill: WebSocket });
      let resolveSynced: () => void = () => {};
      const synced = new Promise<void>((resolve) => (resolveSynced = resolve));
      const provider = new HocuspocusProvider({ websocketProvider: socket, name: options.slug, document: doc, token: options.token, onSynced: () => resolveSynced() });
      provider.attach();
      return {
        doc,
        text,
        synced,
        destroy() {
          provider.destroy();
          socket.destroy();
        },
      };
    }
    default:
      throw new Error(`peers: unknown provider kind ${JSON.stringify(options.kind satisfies never)}`);
  }
}
