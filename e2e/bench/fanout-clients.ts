// The fan-out micro-benchmark's clients, in a worker thread so that their
// receiving does not run on the edge's event loop: raw y-websocket sockets
// on one page that count what the edge sends them and, when told, edit and
// move their cursors at the given rates (fanout-micro.ts).
import { parentPort, workerData } from "node:worker_threads";
import WebSocket from "ws";
import * as Y from "yjs";
import { writeAwarenessEntries } from "../../protocol/awareness";
import { encodeMessage } from "../../protocol/messages";

export interface ClientsPlan {
  url: string;
  slug: string;
  token: string;
  clients: number;
  editsPerSecond: number;
  presencePerSecond: number;
  seconds: number;
}

export interface ClientsReport {
  updates: number;
  awareness: number;
  bytes: number;
  edits: number;
  presence: number;
}

const plan = workerData as ClientsPlan;
const port = parentPort!;

interface Client {
  socket: WebSocket;
  doc: Y.Doc;
  clock: number;
}

const totals: ClientsReport = { updates: 0, awareness: 0, bytes: 0, edits: 0, presence: 0 };
let measuring = false;

function connect(): Promise<Client> {
  const socket = new WebSocket(`${plan.url}/${encodeURIComponent(plan.slug)}?${new URLSearchParams({ token: plan.token })}`);
  const client: Client = { socket, doc: new Y.Doc(), clock: 0 };
  // Each client's edits are its own document's: valid Yjs updates without
  // applying anyone else's (as the load generator's `follow: false`).
  client.doc.on("update", (update: Uint8Array) => socket.send(encodeMessage({ type: "update", update })));
  socket.on("message", (data: Buffer) => {
    if (!measuring) return;
    totals.bytes += data.byteLength;
    // y-websocket framing: type 0 sync with step 2 = update; type 1 awareness.
    if (data[0] === 0 && data[1] === 2) {
      totals.updates += 1;
    } else if (data[0] === 1) {
      totals.awareness += 1;
    }
  });
  return new Promise((resolve, reject) => {
    socket.once("open", () => {
      socket.send(encodeMessage({ type: "sync-step-1", stateVector: Y.encodeStateVector(client.doc) }));
      resolve(client);
    });
    socket.once("error", reject);
  });
}

const clients: Client[] = [];
for (let i = 0; i < plan.clients; i += 50) {
  clients.push(...(await Promise.all(Array.from({ length: Math.min(50, plan.clients - i) }, connect))));
}
port.postMessage({ type: "ready" });

port.once("message", () => {
  measuring = true;
  const tickMs = 10;
  let editDebt = 0;
  let presenceDebt = 0;
  let next = 0;
  const tick = setInterval(() => {
    editDebt += (plan.editsPerSecond * tickMs) / 1000;
    presenceDebt += (plan.presencePerSecond * tickMs) / 1000;
    for (; editDebt >= 1; editDebt -= 1) {
      const client = clients[next++ % clients.length]!;
      // Typing on: after its own last character. (Inserting at 0 from a
      // thousand documents that never see each other makes Yjs scan every
      // concurrent insert at the start: a cost of the bench, not of a page.)
      const text = client.doc.getText("body");
      text.insert(text.length, "x");
      totals.edits += 1;
    }
    for (; presenceDebt >= 1; presenceDebt -= 1) {
      const client = clients[next++ % clients.length]!;
      client.clock += 1;
      const state = new TextEncoder().encode(JSON.stringify({ user: { name: `c${client.doc.clientID}`, color: "#c33" }, cursor: { anchor: client.clock, head: client.clock } }));
      client.socket.send(encodeMessage({ type: "awareness", update: writeAwarenessEntries([{ clientId: client.doc.clientID, clock: client.clock, state }]) }));
      totals.presence += 1;
    }
  }, tickMs);
  setTimeout(() => {
    clearInterval(tick);
    measuring = false;
    port.postMessage({ type: "done", report: totals });
    for (const client of clients) client.socket.terminate();
  }, plan.seconds * 1000);
});
