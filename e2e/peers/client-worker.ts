import { parentPort, workerData } from "node:worker_threads";
import * as Y from "yjs";
import { seatEnd } from "../spike/hot-page/seats";
import { type ProviderKind, type StockClient, connectStockClient } from "./stock-client";
import { markersIn, timedMarker } from "./timed-marker";

/**
 * One of the bench's client threads: stock-provider clients each typing at
 * the end of a line of its own (`seats.ts`), open-loop at this thread's
 * share of the total rate, and probe clients that only read and time each
 * marker's delivery from its send time.
 */

export interface ClientWorkerData {
  kind: ProviderKind;
  /** Where clients connect; client i uses urls[i % urls.length]. */
  urls: string[];
  slug: string;
  tokens: string[];
  /** Global ids of this thread's typing clients (their seat numbers). */
  clients: number[];
  /** Global ids of this thread's probes (numbered after the typing clients, for the url choice). */
  probes: number[];
  /** Epoch ms that marker send times count from; the same in every thread. */
  epoch: number;
  syncTimeoutMs: number;
}

export type ToWorker =
  | { type: "start"; startAtMs: number; durationMs: number; ratePerSecond: number }
  | { type: "drain"; expected: number; timeoutMs: number }
  | { type: "close" };

export type FromWorker =
  | { type: "ready" }
  | { type: "sent"; markers: [id: string, sentMs: number][] }
  | { type: "drained"; latenciesMs: number[]; seenPerProbe: number[] }
  | { type: "closed" }
  | { type: "progress"; sent: number };

const data = workerData as ClientWorkerData;
// y-websocket's provider adds a process "exit" listener per instance; hundreds in one thread are expected here.
process.setMaxListeners(data.clients.length + data.probes.length + 10);
const port = parentPort!;
const now = () => performance.timeOrigin + performance.now() - data.epoch;

interface Typist {
  id: number;
  client: StockClient;
  /** Anchored to the newline that ends this client's line: inserting at it is typing at the line's end. */
  lineEnd: Y.RelativePosition;
  seq: number;
}

function connect(id: number): StockClient {
  return connectStockClient({ kind: data.kind, url: data.urls[id % data.urls.length]!, slug: data.slug, token: data.tokens[id % data.tokens.length]! });
}

async function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`peers client thread: ${what} within ${data.syncTimeoutMs} ms`)), data.syncTimeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves once the client's text holds its seat (written by the bench's seeder before the crowd arrived). */
function seated(client: StockClient, id: number): Promise<number> {
  return new Promise((resolve) => {
    const check = () => {
      try {
        const at = seatEnd(client.text.toString(), id);
        client.text.unobserve(check);
        resolve(at);
      } catch {
        // not yet: the seats arrive with a later update
      }
    };
    client.text.observe(check);
    check();
  });
}

const typists: Typist[] = await Promise.all(
  data.clients.map(async (id) => {
    const client = connect(id);
    await within(client.synced, `client ${id} did not sync with ${data.urls[id % data.urls.length]}`);
    const at = await within(seated(client, id), `client ${id} did not see its seat line`);
    return { id, client, lineEnd: Y.createRelativePositionFromTypeIndex(client.text, at), seq: 0 };
  }),
);

const latenciesMs: number[] = [];
const seenPerProbe = data.probes.map(() => new Set<string>());
const probes = await Promise.all(
  data.probes.map(async (id, index) => {
    const client = connect(id);
    await within(client.synced, `probe ${id} did not sync`);
    client.text.observe((event) => {
      const at = now();
      for (const change of event.delta) {
        if (typeof change.insert !== "string") continue;
        for (const marker of markersIn(change.insert)) {
          if (seenPerProbe[index]!.has(marker.id)) continue;
          seenPerProbe[index]!.add(marker.id);
          latenciesMs.push(at - marker.sentMs);
        }
      }
    });
    return client;
  }),
);
port.postMessage({ type: "ready" } satisfies FromWorker);

function type(typist: Typist, sent: [string, number][]): void {
  const position = Y.createAbsolutePositionFromRelativePosition(typist.lineEnd, typist.client.doc);
  if (!position) throw new Error(`peers client thread: client ${typist.id}'s line end is gone from the page`);
  const sentMs = now();
  const seq = ++typist.seq;
  typist.client.text.insert(position.index, timedMarker(typist.id, seq, sentMs));
  sent.push([`${typist.id}.${seq}`, sentMs]);
}

/** Open loop: at each tick, send every edit whose time has come, whatever the servers answered. */
function runLoad(startAtMs: number, durationMs: number, ratePerSecond: number): Promise<[string, number][]> {
  const sent: [string, number][] = [];
  return new Promise((resolve) => {
    let next = 0;
    let lastProgress = 0;
    const tick = () => {
      const elapsed = now() - startAtMs;
      if (elapsed < 0) return;
      const due = Math.floor((Math.min(elapsed, durationMs) * ratePerSecond) / 1000);
      while (sent.length < due) type(typists[next++ % typists.length]!, sent);
      if (elapsed - lastProgress >= 1000) {
        lastProgress = elapsed;
        port.postMessage({ type: "progress", sent: sent.length } satisfies FromWorker);
      }
      if (elapsed >= durationMs) {
        clearInterval(timer);
        resolve(sent);
      }
    };
    const timer = setInterval(tick, 1);
  });
}

async function drain(expected: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (seenPerProbe.some((seen) => seen.size < expected) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
}

port.on("message", (message: ToWorker) => {
  switch (message.type) {
    case "start":
      if (typists.length === 0) {
        port.postMessage({ type: "sent", markers: [] } satisfies FromWorker);
        return;
      }
      void runLoad(message.startAtMs, message.durationMs, message.ratePerSecond).then((markers) => port.postMessage({ type: "sent", markers } satisfies FromWorker));
      return;
    case "drain":
      void drain(message.expected, message.timeoutMs).then(() =>
        port.postMessage({ type: "drained", latenciesMs, seenPerProbe: seenPerProbe.map((seen) => seen.size) } satisfies FromWorker),
      );
      return;
    case "close":
      for (const typist of typists) typist.client.destroy();
      for (const probe of probes) probe.destroy();
      port.postMessage({ type: "closed" } satisfies FromWorker);
      return;
    default:
      throw new Error(`peers client thread: unknown message ${JSON.stringify(message satisfies never)}`);
  }
});
