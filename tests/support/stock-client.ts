import WebSocket from "ws";
import { WebsocketProvider } from "y-websocket";
import * as Y from "yjs";

/** A stock y-websocket 3.x provider as an app would use it: no Weirwood extension, default `shouldReconnect`. */
export interface StockClient {
  readonly doc: Y.Doc;
  readonly provider: WebsocketProvider;
  /** Every close the edge sent it, in order. */
  readonly closes: { code: number; reason: string }[];
  text(): string;
  /** Appends each marker in its own transaction: one update message each, as a typist's keystrokes. */
  type(markers: readonly string[]): void;
  /** Connected (not given up for good, not between attempts). */
  readonly connected: boolean;
  destroy(): void;
}

export function stockClient(url: string, slug: string, token: string): StockClient {
  const doc = new Y.Doc();
  const provider = new WebsocketProvider(url, slug, doc, { WebSocketPolyfill: WebSocket as never, params: { token }, disableBc: true });
  const closes: { code: number; reason: string }[] = [];
  provider.on("connection-close", (event) => {
    if (event) closes.push({ code: event.code, reason: event.reason });
  });
  const body = doc.getText("body");
  return {
    doc,
    provider,
    closes,
    text: () => body.toString(),
    type(markers) {
      for (const marker of markers) body.insert(body.length, marker);
    },
    get connected() {
      return provider.wsconnected && provider.synced;
    },
    destroy: () => provider.destroy(),
  };
}

/** `count` distinct markers such as `[Ann17]`. */
export function markers(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, n) => `[${prefix}${n}]`);
}

/** The markers missing from `text`, and those in it more than once. */
export function markerProblems(text: string, expected: readonly string[]): { missing: string[]; repeated: string[] } {
  const missing: string[] = [];
  const repeated: string[] = [];
  for (const marker of expected) {
    const times = text.split(marker).length - 1;
    if (times === 0) missing.push(marker);
    else if (times > 1) repeated.push(marker);
  }
  return { missing, repeated };
}

/** Polls `probe` until `check` holds; throws, naming what it waited for and the last value, after `timeoutMs`. */
export async function until<T>(what: string, probe: () => Promise<T> | T, check: (value: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (check(value)) return value;
    if (Date.now() > deadline) {
      const shown = JSON.stringify(value) ?? String(value);
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last seen: ${shown.slice(0, 400)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
