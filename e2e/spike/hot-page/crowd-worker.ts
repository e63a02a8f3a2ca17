// One worker thread of the hot-page crowd (crowd.ts): its share of the
// page's editors (each types about once a second and moves its cursor) and
// followers (read-only), all on one page. Every client counts what it
// receives and keeps exactly which Yjs clock ranges reached it, so that at
// the end it can say which acknowledged edits never arrived; a client the
// edge closes reconnects and resyncs, as a real one does. Probes also
// decode every message to time delivery from the marker's send time, and
// keep what they got to apply it to a Y.Doc at the check.
import { performance } from "node:perf_hooks";
import { parentPort, workerData } from "node:worker_threads";
import * as decoding from "lib0/decoding";
import WebSocket from "ws";
import * as Y from "yjs";
import { writeAwarenessEntries } from "../../../protocol/awareness";
import { CloseCode } from "../../../protocol/close-codes";
import { decodeMessage, encodeMessage, type Message } from "../../../protocol/messages";
import { threadCpuSeconds } from "../../load/thread-cpu";
import { seededRandom } from "../../load/zipf";
import { type ClockRanges, clockRanges, Coverage } from "./coverage";
import { type CheckedReceiver, undeliveredOf } from "./delivery-check";
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
const utf8 = new TextEncoder();
const received = { messages: 0, bytes: 0, updateMessages: 0, awarenessMessages: 0 };
const closes: Record<string, number> = {};
/** Reconnects after a close by the edge, and closes that say not to come back (close-codes.ts: a client bug or a refusal). */
let reconnects = 0;
const FINAL_CLOSES = new Set<number>([CloseCode.unauthorized, CloseCode.badPage, CloseCode.badMessage, CloseCode.messageTooLarge, CloseCode.presenceTooLarge]);
const edits = { client: [] as number[], clock: [] as number[], sentAt: [] as number[], ackedAt: [] as number[] };
let progress = { sent: 0, acked: 0, delivered: 0, latencies: [] as number[] };

/**
 * What a message says, worked out once per distinct message. An edge frames
 * each fan-out window once and writes the same bytes to all its clients
 * (edge/clients/frames.ts), so this worker's hundreds of receivers on one edge get
 * identical messages: parsing each copy made the generator, not the edges,
 * the bottleneck of the crowd. A message is found by a key of its length
 * and a few dozen of its bytes, then compared whole with the one kept
 * (memcmp), so a key shared by two messages costs a parse, never a wrong
 * answer. The SHA-1 of every copy this replaced was a sixth of the
 * worker's time at 1,000 editors (docs/benchmarks.md). The newest few
 * thousand messages are kept.
 */
class Memo<T> {
  private readonly entries = new Map<string, { bytes: Uint8Array; value: T }[]>();

  constructor(private readonly limit: number) {}

  of(bytes: Uint8Array, compute: () => T): T {
    const key = sampleKey(bytes);
    const bucket = this.entries.get(key);
    for (const entry of bucket ?? []) if (Buffer.compare(entry.bytes, bytes) === 0) return entry.value;
    const value = compute();
    // A copy: the message may be a view of a larger socket read, which the memo must not keep alive.
    const kept = { bytes: bytes.slice(), value };
    if (bucket) bucket.push(kept);
    else this.entries.set(key, [kept]);
    if (this.entries.size > this.limit) this.entries.delete(this.entries.keys().next().value!);
    return value;
  }
}

/** Length, 32 bytes spread over the message and its last 16 (where a window's newest marker and time are), FNV-1a. */
function sampleKey(bytes: Uint8Array): string {
  const length = bytes.length;
  let hash = 0x811c9dc5;
  const step = Math.max(1, length >> 5);
  for (let i = 0; i < length; i += step) hash = Math.imul(hash ^ bytes[i]!, 0x01000193);
  for (let i = Math.max(0, length - 16); i < length; i++) hash = Math.imul(hash ^ bytes[i]!, 0x01000193);
  return `${length}:${hash >>> 0}`;
}

/** A marker's author (crowd index) and send time. */
type Sent = [author: number, sentAt: number][];

const rangesMemo = new Memo<ClockRanges>(4096);
const markersMemo = new Memo<Sent>(4096);
const presenceMemo = new Memo<{ name: string | undefined; t: number }[]>(4096);

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
  socket!: WebSocket;
  /** Synced at least once: from then on it is a receiver the check counts, open or not. */
  everSynced = false;
  private markSynced!: () => void;
  private failSync!: (error: Error) => void;
  // Editors only: their own document (they do not apply the others' edits: see ProtocolEditor's `follow`).
  private readonly doc: Y.Doc | undefined;
  /** Probes only: every update received or sent, in order; applied to `mirror` at the check, after the measured window. */
  private readonly got: Uint8Array[] | undefined;
  private mirror: Y.Doc | undefined;
  private applied = 0;
  private applyError: string | undefined;
  private clock = 0;
  /** Editors only: where the next keystroke goes, the end of its own line (seats.ts). */
  private typingAt = -1;
  /** Update messages sent on the current connection: the edge numbers them from 1 per connection. */
  private sentMessages = 0;
  private readonly pending = new Map<number, number>();
  private awarenessClock = 0;
  private n = 0;
  private timers: NodeJS.Timeout[] = [];
  private attempts = 0;
  private connections = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private shutDown = false;

  constructor(readonly plan: CrowdClientPlan) {
    this.doc = plan.role === "editor" ? new Y.Doc() : undefined;
    this.got = plan.probe ? [] : undefined;
    this.synced = new Promise((resolve, reject) => {
      this.markSynced = resolve;
      this.failSync = reject;
    });
    this.connect();
  }

  private connect(): void {
    const query = new URLSearchParams({ token: this.plan.token, ext: "weirwood" });
    const urls = [this.plan.url, ...this.plan.alternates];
    const url = urls[this.connections++ % urls.length]!;
    const socket = new WebSocket(`${url}/${encodeURIComponent(workerPlan.slug)}?${query}`);
    this.socket = socket;
    this.sentMessages = 0;
    socket.binaryType = "nodebuffer";
    socket.on("error", () => {});
    socket.on("open", () => this.send({ type: "sync-step-1", stateVector: this.doc ? Y.encodeStateVector(this.doc) : new Uint8Array([0]) }));
    socket.on("message", (data: Buffer) => this.receive(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)));
    socket.on("close", (code, reason) => this.closed(code, reason.toString()));
  }

  /**
   * A close the crowd did not ask for. Before the first sync it is a
   * connect failure. After it, the client does what a real one does:
   * reconnects with y-websocket's backoff (100 ms doubling to 2.5 s), to
   * the PoP's replicas in turn, and resyncs, which brings what it missed; unless the code says not to come
   * back, and then what it missed stays missing and counts as undelivered.
   */
  private closed(code: number, reason: string): void {
    if (this.shutDown) return;
    const key = `${code} ${reason}`.trim();
    closes[key] = (closes[key] ?? 0) + 1;
    for (const index of this.pending.values()) edits.ackedAt[index] = Number.NaN;
    this.pending.clear();
    if (!this.everSynced) {
      this.failSync(new Error(`closed ${key}`));
      this.stop();
      return;
    }
    if (FINAL_CLOSES.has(code)) {
      this.stop();
      return;
    }
    const delay = Math.min(100 * 2 ** this.attempts++, 2500);
    this.reconnectTimer = setTimeout(() => {
      reconnects += 1;
      this.connect();
    }, delay);
  }

  /** The end of the run: no reconnect, no close counted. */
  shutdown(): void {
    this.shutDown = true;
    this.stop();
    clearTimeout(this.reconnectTimer);
    this.socket.terminate();
  }

  /** What the check reads; a probe first applies what it got since the last check. */
  checked(): CheckedReceiver {
    if (this.got) {
      this.mirror ??= new Y.Doc();
      try {
        for (; this.applied < this.got.length; this.applied++) Y.applyUpdate(this.mirror, this.got[this.applied]!);
      } catch (error) {
        this.applyError ??= (error as Error).message;
        this.applied += 1;
      }
    }
    return { label: `client ${this.plan.index} (${this.plan.role}, ${this.plan.pop})`, coverage: this.coverage, doc: this.mirror, applyError: this.applyError };
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
    const update = writeAwarenessEntries([{ clientId: this.doc.clientID, clock: ++this.awarenessClock, state: utf8.encode(JSON.stringify(state)) }]);
    this.send({ type: "awareness", update });
  }

  attachDocument(): void {
    this.doc?.on("update", (update: Uint8Array, origin: unknown) => {
      if (origin === REMOTE) return;
      this.got?.push(update);
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
        this.everSynced = true;
        this.attempts = 0;
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
    this.got?.push(update);
    for (const [client, from, to] of rangesMemo.of(update, () => clockRanges(update))) this.coverage.add(client, from, to);
    if (!time || !this.plan.probe) return;
    for (const [author, sentAt] of markersMemo.of(update, () => markersIn(update))) {
      if (author === this.plan.index || !inWindow(sentAt)) continue;
      delivery.push(at - sentAt);
      progress.delivered += 1;
      progress.latencies.push(at - sentAt);
    }
  }

  private timeAwareness(update: Uint8Array, at: number): void {
    const own = `Crowd ${this.plan.index}`;
    for (const state of presenceMemo.of(update, () => presenceStates(update))) {
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
      for (const client of clients) client.shutdown();
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

/** For every receiver that ever synced, open or closed: which acknowledged edits never reached it. */
function check(acked: [number, number[]][]): void {
  const receivers = clients.filter((client) => client.everSynced);
  const result = undeliveredOf(
    receivers.map((client) => client.checked()),
    acked,
  );
  const open = receivers.filter((client) => client.socket.readyState === WebSocket.OPEN).length;
  post({ type: "checked", ...result, open, closes: { ...closes }, reconnects });
}

void connectAll();
