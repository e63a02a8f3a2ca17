import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as Y from "yjs";
import { connectNats } from "../../broker/nats";
import { decodeEnvelope } from "../../protocol/envelope";
import { subjects } from "../../protocol/subjects";
import { ProtocolEditor } from "../../e2e/load/protocol-editor";
import { serveOrigin } from "../../origin/http/node-adapter";
import { eventually } from "../support/cluster";
import { testDatabases } from "../support/databases";
import { originText as committedText } from "../support/origin-text";
import { type EdgeProcess, spawnEdge } from "../support/edge-process";
import { natsServerInstalled, startPrivateNats } from "../support/nats-server";
import { startTestOrigin, type TestOrigin } from "../support/origin";
import { resendOnReconnect } from "../support/resend";

const database = testDatabases.at(-1)!;
/** How long test (b) keeps the origin down after the restarted replicas served (the 60 s is the default of nobody's patience in CI). */
const ORIGIN_DOWN_EXTRA_MS = Number(process.env.TEST_ORIGIN_DOWN_MS ?? 0);

/** The page's text as the PoP log alone holds it: its checkpoints and entries applied to an empty document. */
async function loggedText(natsUrl: string, pop: string, slug: string): Promise<string> {
  const broker = await connectNats({ servers: natsUrl, name: "test-log-reader" });
  try {
    const log = await broker.durableLog(subjects.logStream(pop), subjects.logAll(pop));
    const doc = new Y.Doc();
    for (const entry of await log.readAll()) {
      const envelope = decodeEnvelope(entry.data);
      if (envelope.type === "update" && envelope.slug === slug) Y.applyUpdate(doc, envelope.update);
      if (envelope.type === "checkpoint" && envelope.slug === slug) Y.applyUpdate(doc, envelope.state);
    }
    return doc.getText("body").toString();
  } finally {
    await broker.close();
  }
}

function expectEachOnce(text: string, markers: string[]): void {
  for (const marker of markers) expect(text.split(marker).length - 1, `${marker} in ${text}`).toBe(1);
}

// Each test runs a NATS server of its own, which it stops and starts.
describe.runIf(natsServerInstalled())(`pop durability: acks after the log, recovery without the origin (origin on ${database.name})`, () => {
  let origin: TestOrigin;
  let served: Awaited<ReturnType<typeof serveOrigin>>;
  const processes: EdgeProcess[] = [];
  let token: string;

  const edgeEnv = (pop: string, replica: string, natsUrl: string, extra: Record<string, string>) => ({
    EDGE_POP: pop,
    EDGE_REPLICA: replica,
    ORIGIN_URL: served.url,
    EDGE_SERVICE_SECRET: origin.serviceSecret,
    NATS_URL: natsUrl,
    EDGE_DURABILITY: "pop",
    EDGE_HEARTBEAT_MS: "200",
    EDGE_MEMBER_EXPIRY_MS: "1000",
    EDGE_ANTI_ENTROPY_MS: "1000",
    ...extra,
  });

  async function start(pop: string, replica: string, natsUrl: string, extra: Record<string, string> = {}): Promise<EdgeProcess> {
    const edge = await spawnEdge(edgeEnv(pop, replica, natsUrl, extra));
    processes.push(edge);
    return edge;
  }

  async function killed(edge: EdgeProcess): Promise<void> {
    edge.kill("SIGKILL");
    expect(await edge.exited).toBe("SIGKILL");
  }

  // The committed text, not Page.text, which follows within the refresh bound.
  const originText = async (slug: string) => (await committedText(origin, slug)) ?? "";

  beforeAll(async () => {
    origin = await startTestOrigin(database);
    served = await serveOrigin(origin);
    const response = await fetch(`${served.url}/api/auth/register`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "Brienne", password: "a knight of the seven kingdoms" }),
    });
    token = ((await response.json()) as { token: string }).token;
  });

  afterAll(async () => {
    for (const edge of processes) edge.kill("SIGKILL");
    await Promise.all(processes.map((edge) => edge.exited));
    await served?.close();
    await origin?.close();
  });

  it.each([
    { to: "the replica that took it", peer: false },
    { to: "a peer that took the page from that replica's memory", peer: true },
  ])("an update whose log append failed, resent to $to, is acknowledged only once it is in the log, and reaches the origin once after every replica died", async ({ peer }) => {
    const nats = await startPrivateNats();
    try {
      const pop = `pop-${randomBytes(3).toString("hex")}`;
      const slug = `Append_${randomBytes(3).toString("hex")}`;
      // Flushes far apart: until the end, the origin has none of it.
      const a = await start(pop, `${pop}-a`, nats.url, { EDGE_FLUSH_MS: "600000" });
      const writer = ProtocolEditor.connect({ url: a.url, slug, token });
      await writer.synced;
      const markers: string[] = [];
      for (let i = 0; i < 20; i++) {
        const marker = `[p${i}]`;
        expect((await writer.insert(writer.text.length, marker)).durability).toBe("pop");
        markers.push(marker);
      }

      // NATS dies: the next append cannot reach the log (nats.js drops what
      // it buffered when it dials again), the edge closes the writer.
      await nats.kill();
      await expect(writer.insert(writer.text.length, "[lost]")).rejects.toThrow(/closed 4503/);
      expect(writer.text.toString()).toContain("[lost]");
      await nats.restart();
      await eventually(
        () => fetch(`${a.httpUrl}/readyz`).then((response) => response.status, () => 0),
        (status) => status === 200,
        20_000,
      );
      expect(await loggedText(nats.url, pop, slug)).not.toContain("[lost]");

      let resendTo = a;
      if (peer) {
        // A replica that joins now gets the page, "[lost]" included, from
        // a's memory (a bootstrap or anti-entropy), not from the log.
        resendTo = await start(pop, `${pop}-b`, nats.url, { EDGE_FLUSH_MS: "600000" });
        const watcher = ProtocolEditor.connect({ url: resendTo.url, slug, token, acks: false });
        await watcher.synced;
        await eventually(() => watcher.text.toString(), (text) => text.includes("[lost]"), 10_000);
        expect(watcher.text.toString()).toContain("[lost]");
        watcher.terminate();
      }
      // The client comes back and resends what it holds; the edge already
      // has "[lost]" in memory, so the resend changes nothing there.
      expect(await resendOnReconnect({ url: resendTo.url, slug, token, doc: writer.doc })).toBe("pop");
      expect(await loggedText(nats.url, pop, slug)).toContain("[lost]");
      markers.push("[lost]");

      await killed(a);
      if (resendTo !== a) await killed(resendTo);
      // A replica started after the whole PoP died replays the log and flushes it.
      await start(pop, `${pop}-c`, nats.url, { EDGE_FLUSH_MS: "200" });
      const text = await eventually(() => originText(slug), (value) => markers.every((marker) => value.includes(marker)), 20_000);
      expectEachOnce(text, markers);
      writer.terminate();
    } finally {
      for (const edge of processes) edge.kill("SIGKILL");
      await nats.remove();
    }
  });

  it("with the origin down, replicas restarted after all died serve from the log before it returns, and every acknowledged edit reaches it once", async () => {
    // A NATS of its own: a replica asks any replica on its NATS for the
    // signing keys (ww.keys), and other tests' replicas on the shared one
    // would answer with their origins' keys.
    const nats = await startPrivateNats();
    try {
      await originDownWhileAllReplicasDie(nats.url);
    } finally {
      for (const edge of processes) edge.kill("SIGKILL");
      await nats.remove();
    }
  });

  async function originDownWhileAllReplicasDie(natsUrl: string): Promise<void> {
    const pop = `pop-${randomBytes(3).toString("hex")}`;
    const slug = `Outage_${randomBytes(3).toString("hex")}`;
    // A replica of another PoP holds the origin's signing keys and shares
    // them (ww.keys), as the other PoPs of a deployment do.
    const elsewhere = await start(`${pop}-far`, `${pop}-far-a`, natsUrl, { EDGE_DURABILITY: "edge" });
    expect((await fetch(`${elsewhere.httpUrl}/readyz`)).status).toBe(200);
    const a = await start(pop, `${pop}-a`, natsUrl, { EDGE_FLUSH_MS: "300" });
    const b = await start(pop, `${pop}-b`, natsUrl, { EDGE_FLUSH_MS: "300" });
    const writer = ProtocolEditor.connect({ url: a.url, slug, token });
    await writer.synced;
    const markers: string[] = [];
    const type = async (editor: ProtocolEditor, prefix: string, count: number) => {
      for (let i = 0; i < count; i++) {
        const marker = `[${prefix}${i}]`;
        expect((await editor.insert(editor.text.length, marker)).durability).toBe("pop");
        markers.push(marker);
      }
    };
    await type(writer, "c", 20);
    // Committed (and so purged from the log, behind a checkpoint).
    await eventually(() => originText(slug), (value) => markers.every((marker) => value.includes(marker)), 20_000);

    const port = Number(new URL(served.url).port);
    await served.close();
    await type(writer, "d", 20);
    await killed(a);
    await killed(b);
    writer.terminate();

    // Restarted while the origin is still down: they start, rebuild the page
    // from the log, and take edits.
    const a2 = await start(pop, `${pop}-a2`, natsUrl, { EDGE_FLUSH_MS: "300" });
    await start(pop, `${pop}-b2`, natsUrl, { EDGE_FLUSH_MS: "300" });
    const editor = ProtocolEditor.connect({ url: a2.url, slug, token });
    await Promise.race([editor.synced, editor.closed.then(({ code, reason }) => Promise.reject(new Error(`closed ${code} ${reason} before the sync`)))]);
    for (const marker of markers) expect(editor.text.toString()).toContain(marker);
    await type(editor, "e", 20);
    if (ORIGIN_DOWN_EXTRA_MS > 0) await new Promise((resolve) => setTimeout(resolve, ORIGIN_DOWN_EXTRA_MS));
    expect(await originText(slug)).not.toContain("[d0]");

    served = await serveOrigin(origin, { port });
    const text = await eventually(() => originText(slug), (value) => markers.every((marker) => value.includes(marker)), 30_000);
    expectEachOnce(text, markers);
    editor.terminate();
  }
});
