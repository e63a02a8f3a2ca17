import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket, WebSocketServer } from "ws";
import { framedWindow, writeMessage, writeWindow } from "./frames";

/** A real ws server and client on loopback: the frames written past ws must read as ws's own. */
async function pair(): Promise<{ server: WebSocket; client: WebSocket; received: Buffer[]; close: () => Promise<void> }> {
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await new Promise<void>((resolve) => wss.once("listening", () => resolve()));
  const serverSide = new Promise<WebSocket>((resolve) => wss.once("connection", resolve));
  const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`);
  const received: Buffer[] = [];
  client.on("message", (data: Buffer, isBinary) => {
    expect(isBinary).toBe(true);
    received.push(data);
  });
  await new Promise<void>((resolve, reject) => client.once("open", () => resolve()).once("error", reject));
  const server = await serverSide;
  return {
    server,
    client,
    received,
    close: async () => {
      client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

function bytes(length: number, seed: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i * 31 + seed) & 0xff);
}

describe("frames written past ws", () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
    close = undefined;
  });

  // Each length crosses a boundary of the frame header's length field (7, 16 and 64 bits).
  const lengths = [0, 1, 125, 126, 127, 65_535, 65_536, 200_000];

  it("reads as one binary message each, at every header length, in order with ws's own sends", async () => {
    const sides = await pair();
    close = sides.close;
    const sent: Uint8Array[] = [];
    lengths.forEach((length, i) => {
      const message = bytes(length, i);
      sent.push(message);
      if (i % 3 === 2) sides.server.send(message);
      else writeMessage(sides.server, message);
    });
    await expect.poll(() => sides.received.length).toBe(lengths.length);
    expect(sides.received.map((data) => data.byteLength)).toEqual(lengths);
    sides.received.forEach((data, i) => expect(Buffer.compare(data, Buffer.from(sent[i]!))).toBe(0));
  });

  it("writes a window's messages back to back in one buffer", async () => {
    const sides = await pair();
    close = sides.close;
    const messages = lengths.map((length, i) => bytes(length, 100 + i));
    const window = framedWindow(messages);
    const headers = lengths.reduce((sum, length) => sum + (length < 126 ? 2 : length < 0x10000 ? 4 : 10), 0);
    expect(window.frames.byteLength).toBe(headers + lengths.reduce((sum, length) => sum + length, 0));
    writeWindow(sides.server, window);
    await expect.poll(() => sides.received.length).toBe(messages.length);
    sides.received.forEach((data, i) => expect(Buffer.compare(data, Buffer.from(messages[i]!))).toBe(0));
  });
});
