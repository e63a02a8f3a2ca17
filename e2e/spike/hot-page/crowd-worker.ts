// One worker thread of the hot-page crowd (crowd.ts): its share of the
// page's editors (each types about once a second and moves its cursor) and
// followers (read-only), all on one page. Every client counts what it
// receives and keeps which Yjs clock ranges reached it, so that at the end
// it can say which acknowledged edits never arrived; probes also decode
// every message to time delivery from the marker's send time.
import { createHash } from "node:crypto";
import { performance } from "node:perf_hooks";
import { parentPort, workerData } from "node:worker_threads";
import * as decoding from "lib0/decoding";
import * as encoding from "lib0/encoding";
import WebSocket from "ws";
import * as Y from "yjs";
import { decodeMessage, encodeMessage, type Message } from "../../../edge/protocol/messages";
import { threadCpuSeconds } from "../../load/thread-cpu";
import { seededRandom } from "../../load/zipf";
import { Coverage } from "./coverage";
import { seatEnd } from "./seats";
import { type CrowdClientPlan, type CrowdWorkerPlan, type CrowdWorkerResult, type FromCrowdWorker, HOT_MARKER, hotMarker, type ToCrowdWorker } from "./crowd-plan";

const workerPlan = workerData as CrowdWorkerPlan;
const port = parentPort!;
const random = seededRandom(workerPlan.seed);
const now = () => performance.timeOrigin + performance.now();
const post = (message: FromCrowdWorker) => port.postMessage(message);

let measureFrom = Number.POSITIVE_INFINITY;
let measureTo = Number.POSITIVE_INFINITY;
const inWindow = (t: number) => t >= measureFrom && t < measureTo;
const delivery: number[] = [];
const awarenessLatency: number[] = [];
const received = { messages: 0, bytes: 0, updateMessages: 0, awarenessMessages: 0 };
const closes: Record<string, number> = {};
const edits = { client: [] as number[], clock: [] as number[], sentAt: [] as number[], ackedAt: [] as number[] };
let progress = { sent: 0, acked: 0, delivered: 0, latencies: [] as number[] };

/**
 * What a message says, worked out once per distinct message. An edge frames
 * each fan-out window once and writes the same bytes to all its clients
 * (edge/frames.ts), so this worker's hundreds of receivers on one edge get
 * identical messages: parsing each copy made the generator, not the edges,
 * the bottleneck of the crowd. Keyed by a SHA-1 of the payload (native, a
 * fraction of a parse); the newest few thousand are kept.
 */
class Memo<T> {
  private readonly entries = new Map<string, T>();

  constructor(private readonly limit: number) {}

  of(key: string, compute: () => T): T {
    let value = this.entries.get(key);
    if (value === undefined) {
      value = compute();
      this.entries.set(key, value);
      if (this.entries.size > this.limit) this.entries.delete(this.entries.keys().next().value!);
    }
    return value;
  }
}

const digest = (bytes: Uint8Array) => createHash("sha1").update(bytes).digest("base64");

/** Per author (Yjs client): the clock range [from, to) an update carries. */
type ClockRanges = [client: number, from: number, to: number][];
/** A marker's author (crowd index) and send time. */
type Sent = [author: number, sentAt: number][];

const rangesMemo = new Memo<ClockRanges>(4096);
const markersMemo = new Memo<Sent>(4096);
const presenceMemo = new Memo<{ name: string | undefined; t: number }[]>(4096);

function clockRanges(update: Uint8Array): ClockRanges {
  const meta = Y.parseUpdateMeta(update);
  return [...meta.to].map(([client, to]) => [client, meta.from.get(client) ?? 0, to]);
}

function markersIn(update: Uint8Array): Sent {
  const sent: Sent = [];
  for (const struct of Y.decodeUpdate(update).structs) {
    if (!(struct instanceof Y.Item) || !(struct.content instanceof Y.ContentString)) continue;
    for (const match of struct.content.str.matchAll(HOT_MARKER)) if (match[1] === workerPlan.tag) sent.push([Number(match[2]), Number(match[4])]);
  }
  return sent;
}

function presenceStates(update: Uint8Array): { name: string | undefined; t: number }[] {
  const decoder = decoding.createDecoder(update);
  const count = decoding.readVarUint(decoder);
  const states: { name: string | undefined; t: number }[] = [];
  for (let i = 0; i < count; i++) {
    decoding.readVarUint(decoder); // client id
    decoding.readVarUint(decoder); // clock
    const state = JSON.parse(decoding.readVarString(decoder)) as { t?: number; user?: { name?: string } } | null;
    if (state?.t) states.push({ name: state.user?.name, t: state.t });
  }
  return states;
}

class CrowdClient {
  readonly coverage = new Coverage();
  readonly synced: Promise<void>;
  socket: WebSocket;
  private markSynced!: () => void;
  private failSync!: (error: Error) => void;
  // Editors only: their own document (they do not apply the others' edits: see ProtocolEditor's `follow`).
  private readonly doc: Y.Doc | undefined;
  private clock = 0;
  /** Editors only: where the next keystroke goes, the end of its own line (seats.ts). */
  private typingAt = -1;
  private sentMessages = 0;
  private readonly pending = new Map<number, number>();
  private awarenessClock = 0;
  private n = 0;
  private timers: NodeJS.Timeout[] = [];

  constructor(readonly plan: CrowdClientPlan) {
    this.doc = plan.role === "editor" ? new Y.Doc() : undefined;
    this.synced = new Promise((resolve, reject) => {
      this.markSynced = resolve;
      this.failSync = reject;
    });
    const query = new URLSearchParams({ token: plan.token, ext: "weirwood" });
    this.socket = new WebSocket(`${plan.url}/${encodeURIComponent(workerPlan.slug)}?${query}`);
    this.socket.binaryType = "nodebuffer";
    this.socket.on("error", () => {});
    this.socket.on("open", () => this.send({ type: "sync-step-1", stateVector: this.doc ? Y.encodeStateVector(this.doc) : new Uint8Array([0]) }));
    this.socket.on("message", (data: Buffer) => this.receive(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)));
    this.socket.on("close", (code, reason) => {
      const key = `${code} ${reason.toString()}`.trim();
      closes[key] = (closes[key] ?? 0) + 1;
      this.failSync(new Error(`closed ${key}`));
      for (const index of this.pending.values()) edits.ackedAt[index] = Number.NaN;
      this.pending.clear();
      this.stop();
    });
  }

  start(): void {
    if (!this.doc) return;
    const every = (perSecond: number, action: () => void) => {
      if (perSecond <= 0) return;
      const period = 1000 / perSecond;
      // Random phases, so that a thousand people do not all press a key in the same millisecond.
      const first = setTimeout(() => {
        action();
        this.timers.push(setInterval(action, period));
      }, random() * period);
      this.timers.push(first);
    };
    every(workerPlan.editsPerSecond, () => this.edit());
    every(workerPlan.cursorMovesPerSecond, () => this.moveCursor());
  }

  stop(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers = [];
  }

  get inFlight(): number {
    return this.pending.size;
  }

  private edit(): void {
    if (!this.doc || this.typingAt < 0 || this.socket.readyState !== WebSocket.OPEN) return;
    const text = this.doc.getText("body");
    const sentAt = now();
    const marker = hotMarker(workerPlan.tag, this.plan.index, ++this.n, sentAt);
    const index = edits.client.length;
    edits.client.push(this.doc.clientID);
    edits.clock.push(this.clock);
    edits.sentAt.push(sentAt);
    edits.ackedAt.push(Number.NaN);
    // Its own edits count as received: the edge does not echo them back.
    this.coverage.add(this.doc.clientID, this.clock, this.clock + marker.length);
    this.clock += marker.length;
    this.pending.set(this.sentMessages + 1, index);
    text.insert(this.typingAt, marker);
    this.typingAt += marker.length;
    progress.sent += 1;
  }

  private moveCursor(): void {
    if (!this.doc || this.socket.readyState !== WebSocket.OPEN) return;
    const text = this.doc.getText("body");
    const at = Math.floor(random() * (text.length + 1));
    const position = Y.relativePositionToJSON(Y.createRelativePositionFromTypeIndex(text, at));
    const state = { user: { name: `Crowd ${this.plan.index}`, color: "#6b7280" }, cursor: { anchor: position, head: position }, t: now() };
    const encoder = encoding.createEncoder();
    encoding.writeVarUint(encoder, 1);
    encoding.writeVarUint(encoder, this.doc.clientID);
    encoding.writeVarUint(encoder, ++this.awarenessClock);
    encoding.writeVarString(encoder, JSON.stringify(state));
    this.send({ type: "awareness", update: encoding.toUint8Array(encoder) });
  }

  attachDocument(): void {
    this.doc?.on("update", (update: Uint8Array, origin: unknown) => {
      if (origin === REMOTE) return;
      this.sentMessages += 1;
      this.send({ type: "update", update });
    });
  }

  private send(message: Message): void {
    if (this.socket.readyState === WebSocket.OPEN) this.socket.send(encodeMessage(message));
  }

  private receive(bytes: Uint8Array): void {
    const at = now();
    const measured = inWindow(at);
    if (measured) {
      received.messages += 1;
      received.bytes += bytes.byteLength;
    }
    const message = decodeMessage(bytes);
    switch (message.type) {
      case "sync-step-1":
        // Editors answer with what they have (nothing the edge lacks, at first); followers send nothing, as the browser's read-only provider.
        if (this.doc) {
          this.sentMessages += 1;
          this.send({ type: "sync-step-2", update: Y.encodeStateAsUpdate(this.doc, message.stateVector) });
        }
        return;
      case "sync-step-2":
        this.cover(message.update, at, false);
        // An editor starts from the page as it is, and types at the end of its own line.
        if (this.doc) {
          Y.applyUpdate(this.doc, message.update, REMOTE);
          try {
            this.typingAt = seatEnd(this.doc.getText("body").toString(), this.plan.index);
          } catch (error) {
            this.failSync(error as Error);
            return;
          }
        }
        this.markSynced();
        return;
      case "update":
        if (measured) received.updateMessages += 1;
        this.cover(message.update, at, true);
        return;
      case "awareness":
        if (measured) received.awarenessMessages += 1;
        if (this.plan.probe) this.timeAwareness(message.update, at);
        return;
      case "ack": {
        const index = this.pending.get(message.seq);
        if (index === undefined) return;
        this.pending.delete(message.seq);
        edits.ackedAt[index] = at;
        progress.acked += 1;
        return;
      }
      default:
        return;
    }
  }

  private cover(update: Uint8Array, at: number, time: boolean): void {
    const key = digest(update);
    for (const [client, from, to] of rangesMemo.of(key, () => clockRanges(update))) this.coverage.add(client, from, to);
    if (!time || !this.plan.probe) return;
    for (const [author, sentAt] of markersMemo.of(key, () => markersIn(update))) {
      if (author === this.plan.index || !inWindow(sentAt)) continue;
      delivery.push(at - sentAt);
      progress.delivered += 1;
      progress.latencies.push(at - sentAt);
    }
  }

  private timeAwareness(update: Uint8Array, at: number): void {
    const own = `Crowd ${this.plan.index}`;
    for (const state of presenceMemo.of(digest(update), () => presenceStates(update))) {
      if (state.name === own || !inWindow(state.t)) continue;
      awarenessLatency.push(at - state.t);
    }
  }
}

const REMOTE = Symbol("remote");

const clients: CrowdClient[] = [];

async function connectAll(): Promise<void> {
  const failures: Record<string, number> = {};
  let connected = 0;
  // In waves, as a crowd arrives: thousands of handshakes at once would time out on two cores.
  for (let i = 0; i < workerPlan.clients.length; i += 50) {
    const wave = workerPlan.clients.slice(i, i + 50).map((clientPlan) => {
      const client = new CrowdClient(clientPlan);
      client.attachDocument();
      clients.push(client);
      const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error("sync timeout")), workerPlan.connectTimeoutMs).unref());
      return Promise.race([client.synced, timeout]).then(
        () => void (connected += 1),
        (error: Error) => void (failures[error.message] = (failures[error.message] ?? 0) + 1),
      );
    });
    await Promise.all(wave);
  }
  post({ type: "ready", connected, failures });
}

let cpuAtStart = 0;
let eluAtStart = performance.eventLoopUtilization();
let progressTimer: NodeJS.Timeout | undefined;

port.on("message", (message: ToCrowdWorker) => {
  switch (message.type) {
    case "start": {
      measureFrom = message.measureFrom;
      measureTo = message.measureTo;
      cpuAtStart = threadCpuSeconds();
      eluAtStart = performance.eventLoopUtilization();
      for (const client of clients) client.start();
      progressTimer = setInterval(() => {
        const sorted = progress.latencies.sort((a, b) => a - b);
        post({ type: "progress", at: now(), sent: progress.sent, acked: progress.acked, delivered: progress.delivered, deliveryP99: sorted[Math.floor(sorted.length * 0.99)] ?? Number.NaN });
        progress = { sent: 0, acked: 0, delivered: 0, latencies: [] };
      }, 1000);
      return;
    }
    case "stop":
      void stop();
      return;
    case "check":
      check(message.acked);
      return;
    case "close":
      for (const client of clients) client.socket.terminate();
      post({ type: "closed" });
      return;
  }
});

async function stop(): Promise<void> {
  for (const client of clients) client.stop();
  clearInterval(progressTimer);
  const cpuSeconds = threadCpuSeconds() - cpuAtStart;
  const elu = performance.eventLoopUtilization(eluAtStart).utilization;
  const deadline = now() + 10_000;
  while (clients.some((client) => client.inFlight > 0) && now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  const result: CrowdWorkerResult = {
    worker: workerPlan.worker,
    delivery,
    awareness: awarenessLatency,
    edits: {
      client: Float64Array.from(edits.client),
      clock: Float64Array.from(edits.clock),
      sentAt: Float64Array.from(edits.sentAt),
      ackedAt: Float64Array.from(edits.ackedAt),
    },
    received,
    clients: clients.length,
    probes: workerPlan.clients.filter((client) => client.probe).length,
    cpuSeconds,
    eventLoopUtilization: elu,
  };
  post({ type: "stopped", result });
}

/** For every open receiver: which acknowledged edits (of the others) never reached it. */
function check(acked: [number, number[]][]): void {
  let undelivered = 0;
  let receiversMissing = 0;
  let receiversChecked = 0;
  const examples: string[] = [];
  for (const client of clients) {
    if (client.socket.readyState !== WebSocket.OPEN) continue;
    receiversChecked += 1;
    let missing = 0;
    for (const [author, clocks] of acked) {
      for (const clock of clocks) {
        if (client.coverage.has(author, clock)) continue;
        missing += 1;
        if (examples.length < 5) examples.push(`client ${client.plan.index} (${client.plan.role}, ${client.plan.pop}) lacks ${author}:${clock}`);
      }
    }
    undelivered += missing;
    if (missing > 0) receiversMissing += 1;
  }
  post({ type: "checked", undelivered, receiversMissing, receiversChecked, examples, closes: { ...closes } });
}

void connectAll();
