// One load-generator worker thread: connects its share of protocol-level
// editors, offers their edits on schedule when told to start, records every
// edit's send and ack time, and hands the records back (load-generator.ts).
import { performance } from "node:perf_hooks";
import { parentPort, workerData } from "node:worker_threads";
import { type AcksByDurability, countAck } from "./ack-durability";
import { type EditorPlan, type EditRecords, type FromWorker, rateAt, type ToWorker, type WorkerPlan, type WorkerSummary } from "./load-plan";
import { markerOf, positionBetweenMarkers } from "./markers";
import * as Y from "yjs";
import { ProtocolEditor } from "./protocol-editor";
import { threadCpuSeconds } from "./thread-cpu";
import { seededRandom } from "./zipf";

const plan = workerData as WorkerPlan;
const port = parentPort!;
const random = seededRandom(plan.seed);
/** Epoch milliseconds with performance.now()'s resolution, comparable across threads. */
const now = () => performance.timeOrigin + performance.now();

function post(message: FromWorker, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
}

/** Per-edit columns, grown as edits are offered. */
class Records {
  private capacity = 4096;
  length = 0;
  editor = new Int32Array(this.capacity);
  n = new Int32Array(this.capacity);
  page = new Int32Array(this.capacity);
  scheduledAt = new Float64Array(this.capacity);
  sentAt = new Float64Array(this.capacity);
  ackedAt = new Float64Array(this.capacity);
  fate = new Uint8Array(this.capacity);

  add(editor: EditorPlan, n: number, scheduledAt: number, sentAt: number): number {
    if (this.length === this.capacity) this.grow();
    const i = this.length++;
    this.editor[i] = editor.local;
    this.n[i] = n;
    this.page[i] = editor.page;
    this.scheduledAt[i] = scheduledAt;
    this.sentAt[i] = sentAt;
    this.ackedAt[i] = Number.NaN;
    return i;
  }

  private grow(): void {
    this.capacity *= 2;
    const grow = <T extends Int32Array | Float64Array | Uint8Array>(array: T, make: (n: number) => T): T => {
      const grown = make(this.capacity);
      grown.set(array);
      return grown;
    };
    this.editor = grow(this.editor, (n) => new Int32Array(n));
    this.n = grow(this.n, (n) => new Int32Array(n));
    this.page = grow(this.page, (n) => new Int32Array(n));
    this.scheduledAt = grow(this.scheduledAt, (n) => new Float64Array(n));
    this.sentAt = grow(this.sentAt, (n) => new Float64Array(n));
    this.ackedAt = grow(this.ackedAt, (n) => new Float64Array(n));
    this.fate = grow(this.fate, (n) => new Uint8Array(n));
  }

  take(): EditRecords {
    const length = this.length;
    return {
      editor: this.editor.slice(0, length),
      n: this.n.slice(0, length),
      page: this.page.slice(0, length),
      scheduledAt: this.scheduledAt.slice(0, length),
      sentAt: this.sentAt.slice(0, length),
      ackedAt: this.ackedAt.slice(0, length),
      fate: this.fate.slice(0, length),
    };
  }
}

interface EditorState {
  plan: EditorPlan;
  slug: string;
  /** Connections made so far: the n-th goes to the n-th of [url, ...alternates], round. */
  attempts: number;
  editor: ProtocolEditor | undefined;
  /** Connected and synced: edits may be sent. */
  ready: boolean;
  /** Edits sent so far (markers are numbered from 1). */
  n: number;
  inFlight: number;
  nextAt: number;
  /** "crowd" mix: just after the line this editor typed last, in its current connection's document (reset on reconnect). */
  typingAfter: Y.RelativePosition | undefined;
}

/** A binary min-heap of editors by their next due time. */
class DueHeap {
  private readonly items: EditorState[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): EditorState | undefined {
    return this.items[0];
  }

  push(item: EditorState): void {
    const items = this.items;
    items.push(item);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (items[parent]!.nextAt <= items[i]!.nextAt) break;
      [items[parent], items[i]] = [items[i]!, items[parent]!];
      i = parent;
    }
  }

  pop(): EditorState | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let smallest = i;
        if (left < items.length && items[left]!.nextAt < items[smallest]!.nextAt) smallest = left;
        if (right < items.length && items[right]!.nextAt < items[smallest]!.nextAt) smallest = right;
        if (smallest === i) break;
        [items[smallest], items[i]] = [items[i]!, items[smallest]!];
        i = smallest;
      }
    }
    return top;
  }
}

const editors: EditorState[] = plan.editors.map((editor) => ({
  plan: editor,
  slug: plan.pages[editor.page]!,
  attempts: 0,
  editor: undefined,
  ready: false,
  n: 0,
  inFlight: 0,
  nextAt: 0,
  typingAfter: undefined,
}));
const records = new Records();
/** Set once the records went to the main thread: an ack after that is a late one. */
let recordsTaken = false;
/** Markers acknowledged after the drain, by page slug: sent with "closed", and checked like the others. */
const lateAcked = new Map<string, string[]>();
const closes: Record<string, number> = {};
/** What editors that are gone had received. */
const retiredReceived = { updates: 0, awareness: 0, bytes: 0 };
let reconnects = 0;
/** Every ack by the durability it reported: the run checks them against the level under test. */
const acks: AcksByDurability = {};
let running = false;
let inFlight = 0;
let startAt = 0;
let endAt = 0;
const progress = { offered: 0, acked: 0, failed: 0, latencies: [] as number[] };

async function connect(state: EditorState): Promise<string | undefined> {
  const { token } = state.plan;
  const urls = [state.plan.url, ...state.plan.alternates];
  const url = urls[state.attempts++ % urls.length]!;
  const editor = ProtocolEditor.connect({ url, slug: state.slug, token, follow: plan.follow });
  state.editor = editor;
  state.ready = false;
  state.typingAfter = undefined;
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    editor.synced.then(() => undefined),
    editor.closed.then(({ code, reason }) => `closed ${code} before sync: ${reason || "(no reason)"}`),
    new Promise<string>((resolve) => (timer = setTimeout(() => resolve(`not synced within ${plan.connectTimeoutMs} ms`), plan.connectTimeoutMs))),
  ]);
  clearTimeout(timer);
  if (outcome !== undefined) {
    editor.terminate();
    editor.awareness.destroy();
    return outcome;
  }
  state.ready = true;
  void editor.closed.then((closing) => onClosed(state, editor, closing));
  return undefined;
}

function onClosed(state: EditorState, editor: ProtocolEditor, closing: { code: number; reason: string }): void {
  editor.awareness.destroy();
  retiredReceived.updates += editor.received.updates;
  retiredReceived.awareness += editor.received.awareness;
  retiredReceived.bytes += editor.received.bytes;
  if (state.editor !== editor) return;
  state.ready = false;
  state.editor = undefined;
  const key = `${closing.code} ${closing.reason || "(no reason)"}`;
  closes[key] = (closes[key] ?? 0) + 1;
  scheduleReconnect(state);
}

/**
 * A real client reconnects after a pause, to the PoP's next replica (what
 * close codes 4000 and 4503 ask for, and what a dead replica leaves); its
 * unacknowledged edits are not counted as acknowledged.
 */
function scheduleReconnect(state: EditorState): void {
  if (!running) return;
  setTimeout(() => {
    if (!running) return;
    reconnects += 1;
    void connect(state).then((failure) => {
      if (failure) {
        closes[failure] = (closes[failure] ?? 0) + 1;
        state.editor = undefined;
        scheduleReconnect(state);
      } else if (plan.mode === "closed") {
        for (let i = 0; i < plan.maxInFlight; i++) {
          progress.offered += 1;
          send(state, now());
        }
      }
    });
  }, 500 + random() * 500);
}

async function connectAll(): Promise<void> {
  const failures: Record<string, number> = {};
  let next = 0;
  let connected = 0;
  // A bounded number of handshakes at once: a thousand simultaneous
  // upgrades would measure the edge's accept queue, not the write path.
  const lane = async () => {
    while (next < editors.length) {
      const state = editors[next++]!;
      const failure = await connect(state);
      if (failure) failures[failure] = (failures[failure] ?? 0) + 1;
      else connected += 1;
    }
  };
  await Promise.all(Array.from({ length: 32 }, lane));
  post({ type: "ready", connected, failures });
}

function send(state: EditorState, scheduledAt: number): void {
  const editor = state.editor;
  if (!editor || !state.ready) {
    records.add(state.plan, 0, scheduledAt, Number.NaN);
    return;
  }
  const n = ++state.n;
  const marker = markerOf({ worker: plan.worker, editor: state.plan.local, n }, plan.markerTag);
  const position = Math.min(nextPosition(state, editor), editor.text.length);
  const sentAt = now();
  const index = records.add(state.plan, n, scheduledAt, sentAt);
  state.inFlight += 1;
  inFlight += 1;
  // A line per edit, as wiki text has: a page of thousands of markers on one
  // line would make every browser in the spike re-lay out one giant line
  // on each remote update (it cost them a core).
  const acked = editor.insert(position, `${marker}\n`);
  // Sticks to the newline just typed (assoc -1), wherever others' text lands around it.
  if (plan.mix === "crowd") state.typingAfter = Y.createRelativePositionFromTypeIndex(editor.text, position + marker.length + 1, -1);
  acked.then(
    (ack) => {
      if (recordsTaken) {
        // After the drain: not in this run's figures, but acknowledged all the same, so still checked.
        const late = lateAcked.get(state.slug) ?? [];
        late.push(marker);
        lateAcked.set(state.slug, late);
        settled(state, editor);
        return;
      }
      countAck(acks, ack.durability);
      records.ackedAt[index] = sentAt + ack.latencyMs;
      progress.acked += 1;
      progress.latencies.push(ack.latencyMs);
      settled(state, editor);
    },
    () => {
      records.fate[index] = 1;
      progress.failed += 1;
      settled(state, editor);
    },
  );
}

/** Where the next edit goes: see EditMix (load-plan.ts). */
function nextPosition(state: EditorState, editor: ProtocolEditor): number {
  if (plan.mix === "crowd" && state.typingAfter) {
    const after = Y.createAbsolutePositionFromRelativePosition(state.typingAfter, editor.doc);
    if (after) return after.index;
  }
  return positionBetweenMarkers(editor.text.toString(), random);
}

function settled(state: EditorState, editor: ProtocolEditor): void {
  state.inFlight -= 1;
  inFlight -= 1;
  if (plan.mode === "closed" && running && state.ready && state.editor === editor && now() < endAt) {
    progress.offered += 1;
    send(state, now());
  }
}

const heap = new DueHeap();
let timer: NodeJS.Timeout | undefined;

/** Open loop: offers every edit that is due, then sleeps until the next one. */
function tick(): void {
  timer = undefined;
  const t = now();
  if (t >= endAt) return;
  for (let state = heap.peek(); state && state.nextAt <= t; state = heap.peek()) {
    heap.pop();
    const due = state.nextAt;
    const rate = rateAt(plan.ratePerEditor, (due - startAt) / 1000);
    if (rate > 0) {
      progress.offered += 1;
      if (state.ready && state.inFlight < plan.maxInFlight) send(state, due);
      else records.add(state.plan, 0, due, Number.NaN);
      state.nextAt = due + 1000 / rate;
    } else {
      state.nextAt = due + 100;
    }
    if (state.nextAt < endAt) heap.push(state);
  }
  const next = heap.peek();
  if (next) timer = setTimeout(tick, Math.max(0, next.nextAt - now()));
}

function received(): WorkerSummary["received"] {
  const total = { ...retiredReceived };
  for (const state of editors) {
    if (!state.editor) continue;
    total.updates += state.editor.received.updates;
    total.awareness += state.editor.received.awareness;
    total.bytes += state.editor.received.bytes;
  }
  return total;
}

async function run(startMessage: Extract<ToWorker, { type: "start" }>): Promise<void> {
  startAt = startMessage.startAt;
  const measureAt = startAt + startMessage.warmupMs;
  endAt = measureAt + startMessage.measureMs;
  let cpuAtMeasure = Number.NaN;
  let eluAtMeasure = performance.eventLoopUtilization();
  let cpuSeconds = Number.NaN;
  let elu = Number.NaN;
  setTimeout(() => {
    cpuAtMeasure = threadCpuSeconds();
    eluAtMeasure = performance.eventLoopUtilization();
  }, Math.max(0, measureAt - now()));
  const ended = new Promise<void>((resolve) =>
    setTimeout(() => {
      cpuSeconds = threadCpuSeconds() - cpuAtMeasure;
      elu = performance.eventLoopUtilization(eluAtMeasure).utilization;
      resolve();
    }, Math.max(0, endAt - now())),
  );
  let lastReceived = 0;
  let seq = 0;
  // From the common start, so that the workers' k-th reports cover the same second.
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, startAt - now())));
  const reporter = setInterval(() => {
    const total = received();
    const sum = total.updates + total.awareness;
    post({ type: "progress", seq: seq++, at: now(), ...progress, inFlight, received: sum - lastReceived });
    lastReceived = sum;
    progress.offered = 0;
    progress.acked = 0;
    progress.failed = 0;
    progress.latencies = [];
  }, 1000);

  running = true;
  if (plan.mode === "open") {
    for (const state of editors) {
      const rate = rateAt(plan.ratePerEditor, 0);
      // Random phases, so that the editors do not type in lockstep.
      state.nextAt = startAt + random() * (rate > 0 ? 1000 / rate : 100);
      heap.push(state);
    }
    tick();
  } else {
    for (const state of editors) {
      for (let i = 0; i < plan.maxInFlight; i++) {
        progress.offered += 1;
        send(state, now());
      }
    }
  }
  await ended;
  running = false;
  if (timer) clearTimeout(timer);
  const drainUntil = now() + plan.drainMs;
  while (inFlight > 0 && now() < drainUntil) await new Promise((resolve) => setTimeout(resolve, 20));
  clearInterval(reporter);
  const taken = records.take();
  recordsTaken = true;
  for (let i = 0; i < taken.fate.length; i++) {
    if (!Number.isNaN(taken.sentAt[i]!) && Number.isNaN(taken.ackedAt[i]!) && taken.fate[i] === 0) taken.fate[i] = 2;
  }
  const summary: WorkerSummary = {
    worker: plan.worker,
    editors: editors.length,
    cpuSeconds,
    eventLoopUtilization: elu,
    received: received(),
    closes,
    reconnects,
    acks: { ...acks },
  };
  post({ type: "done", records: taken, summary }, [
    taken.editor.buffer,
    taken.n.buffer,
    taken.page.buffer,
    taken.scheduledAt.buffer,
    taken.sentAt.buffer,
    taken.ackedAt.buffer,
    taken.fate.buffer,
  ] as ArrayBuffer[]);
}

async function closeAll(): Promise<void> {
  running = false;
  await Promise.all(
    editors.map(async (state) => {
      const editor = state.editor;
      state.editor = undefined;
      if (!editor) return;
      editor.awareness.destroy();
      await Promise.race([editor.close(), new Promise((resolve) => setTimeout(resolve, 2000))]);
      editor.terminate();
    }),
  );
  post({ type: "closed", lateAcked: [...lateAcked] });
}

port.on("message", (message: ToWorker) => {
  switch (message.type) {
    case "start":
      void run(message);
      return;
    case "close":
      void closeAll();
      return;
    default:
      message satisfies never;
  }
});

await connectAll();
