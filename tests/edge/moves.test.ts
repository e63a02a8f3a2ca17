import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningEdge } from "../../edge/edge";
import type { ProtocolEditor } from "../../e2e/load/protocol-editor";
import { CloseCode } from "../../protocol/close-codes";
import { movedPageMessage } from "../../protocol/moved-page";
import { subjects } from "../../protocol/subjects";
import { type Cluster, type ClusterOptions, eventually, startCluster } from "../support/cluster";
import { testDatabases } from "../support/databases";
import { register, type RegisteredAccount } from "../support/register";
import { resendOnReconnect } from "../support/resend";
import { natsAnswers, TEST_NATS_URL } from "../support/test-nats";

async function originText(cluster: Cluster, slug: string): Promise<{ status: number; text?: string }> {
  const response = await fetch(`${cluster.originUrl}/api/pages/${slug}`, { redirect: "manual" });
  const body = (await response.json()) as { text?: string };
  return { status: response.status, text: body.text };
}

/** Opening `slug` on `edge`: the close code it is refused with, or 0 once it synced. */
async function openCode(cluster: Cluster, edge: RunningEdge, slug: string, token: string): Promise<{ code: number; reason: string }> {
  const editor = cluster.editor(edge, slug, token);
  try {
    return await Promise.race([editor.closed, editor.synced.then(() => ({ code: 0, reason: "synced" }))]);
  } finally {
    editor.terminate();
  }
}

const nats = await natsAnswers();
const CASES: { by: string; options: Pick<ClusterOptions, "database" | "broker" | "durability">; recheckMs: string; dropNotice: boolean }[] = [
  { by: "the broker's notice", options: { database: testDatabases[0]!, broker: "memory" }, recheckMs: "600000", dropNotice: false },
  { by: "each replica's recheck, the notice lost", options: { database: testDatabases[0]!, broker: "memory" }, recheckMs: "300", dropNotice: true },
  ...(nats
    ? [
        {
          by: `NATS at pop durability (${testDatabases.at(-1)!.name})`,
          options: { database: testDatabases.at(-1)!, broker: { nats: TEST_NATS_URL }, durability: "pop" as const },
          recheckMs: "600000",
          dropNotice: false,
        },
      ]
    : []),
];

/**
 * A page moved while people type in it (issue 22): every replica of every
 * PoP closes the old name's sockets with 4411 naming the new one and refuses
 * new ones; the edits the edges acknowledged under the old name reach the
 * page under its new name (the origin merges their flushes into it), and an
 * editor that reconnects its document there, as the wiki's editor does,
 * loses nothing it had not sent yet. By the broker's notice, and by each
 * replica's recheck when the notice is lost.
 */
describe.each(CASES)("a page moved while it is edited, told by $by", ({ options, recheckMs, dropNotice }) => {
  let cluster: Cluster;
  let writer: RegisteredAccount;
  const suffix = Math.random().toString(36).slice(2, 8);
  beforeAll(async () => {
    cluster = await startCluster({ ...options, pops: ["north", "south"], replicasPerPop: 2, env: { EDGE_BLOCK_RECHECK_MS: recheckMs, EDGE_FLUSH_MS: "200" } });
    await register(cluster.originUrl, `Admin${suffix}`); // the first account is the admin
    writer = await register(cluster.originUrl, `Maester${suffix}`);
  });
  afterAll(() => cluster?.stop());

  it("closes the old name with 4411 naming the new one everywhere, refuses it after, and every acknowledged or unsent edit lands under the new name", async () => {
    const from = `Citadel_${suffix}`;
    const to = `Citadel_of_Oldtown_${suffix}`;
    const editors: ProtocolEditor[] = cluster.edges.map((edge) => cluster.editor(edge, from, writer.token));
    await Promise.all(editors.map((editor) => editor.synced));
    await Promise.all(editors.map((editor, i) => editor.insert(0, `[before ${i}]`)));
    await eventually(() => originText(cluster, from), (read) => read.status === 200, 15_000);
    // Acknowledged at the edges, perhaps not flushed when the move lands.
    await Promise.all(editors.map((editor, i) => editor.insert(0, `[late ${i}]`)));

    const lost = dropNotice ? cluster.bus!.dropNext(subjects.pageDeletions(), 1) : undefined;
    const moved = await fetch(`${cluster.originUrl}/api/pages/${from}/move`, {
      method: "POST",
      headers: { "content-type": "application/json", cookie: writer.cookie },
      body: JSON.stringify({ to, reason: "its full name" }),
    });
    expect(moved.status, await moved.clone().text()).toBe(200);

    const closes = await Promise.all(editors.map((editor) => editor.closed));
    for (const close of closes) expect(close).toEqual({ code: CloseCode.pageMoved, reason: movedPageMessage(to) });
    if (lost) expect(lost.dropped()).toBe(1);
    for (const edge of cluster.edges) expect(await openCode(cluster, edge, from, writer.token)).toEqual({ code: CloseCode.pageMoved, reason: movedPageMessage(to) });

    // Typed after the close, before the editor reconnected: it follows the move with its document.
    editors[0]!.text.insert(0, "[unsent]");
    expect(await resendOnReconnect({ url: cluster.edges[3]!.url, slug: to, token: writer.token, doc: editors[0]!.doc })).toBe(options.durability ?? "edge");

    const markers = [...editors.flatMap((_, i) => [`[before ${i}]`, `[late ${i}]`]), "[unsent]"];
    const landed = await eventually(
      () => originText(cluster, to),
      (read) => read.status === 200 && markers.every((marker) => read.text!.includes(marker)),
      20_000,
    );
    for (const marker of markers) expect(landed.text!.split(marker).length - 1, landed.text).toBe(1);
    expect((await originText(cluster, from)).status).toBe(301);
    for (const editor of editors) editor.terminate();
  }, 90_000);
});
