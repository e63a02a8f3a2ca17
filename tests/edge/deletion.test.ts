import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningEdge } from "../../edge/edge";
import type { ProtocolEditor } from "../../e2e/load/protocol-editor";
import { CloseCode } from "../../protocol/close-codes";
import { subjects } from "../../protocol/subjects";
import { connectNats } from "../../broker/nats";
import { type Cluster, type ClusterOptions, eventually, startCluster } from "../support/cluster";
import { testDatabases } from "../support/databases";
import { register, type RegisteredAccount } from "../support/register";
import { httpGet } from "../support/http-get";
import { natsAnswers, TEST_NATS_URL } from "../support/test-nats";

function adminPost(cluster: Cluster, cookie: string, path: string, body: unknown): Promise<Response> {
  return fetch(`${cluster.originUrl}${path}`, { method: "POST", headers: { "content-type": "application/json", cookie }, body: JSON.stringify(body) });
}

/** Whether `token` may write `slug` on `edge`: an acknowledged edit, or the close that refused it. */
async function tryWrite(cluster: Cluster, edge: RunningEdge, slug: string, token: string): Promise<{ wrote: true } | { wrote: false; code: number; reason: string }> {
  const editor = cluster.editor(edge, slug, token);
  const refused = editor.closed.then((close) => ({ wrote: false as const, ...close }));
  const wrote = editor.synced.then(() => editor.insert(0, "x")).then(() => ({ wrote: true as const }));
  const unanswered = new Promise<{ wrote: false; code: number; reason: string }>((resolve) =>
    setTimeout(() => resolve({ wrote: false, code: 0, reason: "neither acknowledged nor closed" }), 5_000).unref(),
  );
  try {
    return await Promise.race([refused, wrote.catch(() => refused), unanswered]);
  } finally {
    editor.terminate();
  }
}

async function pageRead(cluster: Cluster, slug: string): Promise<{ status: number; text?: string }> {
  const response = await fetch(`${cluster.originUrl}/api/pages/${slug}`);
  const body = (await response.json()) as { text?: string };
  return { status: response.status, text: body.text };
}

/** weirwood_edge_deleted_page_closes_total of one replica. */
async function deletedPageCloses(edge: RunningEdge): Promise<number> {
  const text = (await httpGet(`${edge.httpUrl}/metrics`)).body;
  const line = text.split("\n").find((row) => row.startsWith("weirwood_edge_deleted_page_closes_total"));
  return line ? Number(line.split(" ").at(-1)) : 0;
}

async function settlesWithin<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not done after ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

const nats = await natsAnswers();
type Loss = "none" | "dropped by the broker" | "never published";
const CASES: { enforcedBy: string; options: Pick<ClusterOptions, "database" | "broker">; recheckMs: string; loss: Loss }[] = [
  { enforcedBy: "the broker notice alone (memory broker, PGlite)", options: { database: testDatabases[0]!, broker: "memory" }, recheckMs: "600000", loss: "none" },
  {
    enforcedBy: "each replica's recheck alone, the broker dropping the notices (memory broker, PGlite)",
    options: { database: testDatabases[0]!, broker: "memory" },
    recheckMs: "300",
    loss: "dropped by the broker",
  },
  ...(nats
    ? [
        {
          enforcedBy: `each replica's recheck alone, the origin never publishing (NATS, ${testDatabases.at(-1)!.name})`,
          options: { database: testDatabases.at(-1)!, broker: (name: string) => connectNats({ servers: TEST_NATS_URL, name }) },
          recheckMs: "300",
          loss: "never published" as const,
        },
      ]
    : []),
];

/**
 * An admin's delete of a page reaches every replica of every PoP: its open
 * sockets are closed with 4410 and the reason, new ones are refused, and the
 * edits the edges acknowledged before are kept for undelete (issue 22). Two
 * ways, each tested alone, as for blocks (tests/edge/blocks.test.ts): the
 * origin's notice on the broker (the recheck set past the test's length),
 * and, for a notice the broker lost, each replica's recheck of the pages it
 * holds.
 */
describe.each(CASES)("a deleted page is closed and refused on every replica by $enforcedBy", ({ options, recheckMs, loss }) => {
  let cluster: Cluster;
  let admin: RegisteredAccount;
  let writer: RegisteredAccount;
  const suffix = Math.random().toString(36).slice(2, 8);
  beforeAll(async () => {
    cluster = await startCluster({
      ...options,
      pops: ["north", "south"],
      replicasPerPop: 2,
      env: { EDGE_BLOCK_RECHECK_MS: recheckMs, EDGE_FLUSH_MS: "200" },
    });
    // The first account of a fresh install is its admin.
    admin = await register(cluster.originUrl, `Cersei${suffix}`);
    writer = await register(cluster.originUrl, `Septon${suffix}`);
  });
  afterAll(() => cluster?.stop());

  it("closes the open sockets with 4410 and the reason, refuses new ones, keeps the acknowledged edits; undelete restores them and lets editors in", async () => {
    const slug = `Great_Sept_${suffix}`;
    const other = `Red_Keep_${suffix}`;
    const editors: ProtocolEditor[] = cluster.edges.map((edge) => cluster.editor(edge, slug, writer.token));
    const bystander = cluster.editor(cluster.edges[0]!, other, writer.token);
    await Promise.all([...editors, bystander].map((editor) => editor.synced));
    await Promise.all(editors.map((editor, i) => editor.insert(0, `[before ${i}]`)));
    // A page exists at the origin from its first flush.
    await eventually(() => pageRead(cluster, slug), (read) => read.status === 200, 15_000);
    // Acknowledged, maybe not flushed yet when the delete lands: they must survive it.
    await Promise.all(editors.map((editor, i) => editor.insert(0, `[late ${i}]`)));

    if (loss === "never published") cluster.origin.deletionChanges.clear();
    const lost = loss === "dropped by the broker" ? cluster.bus!.dropNext(subjects.pageDeletions(), 1) : undefined;
    const deleted = await adminPost(cluster, admin.cookie, `/api/pages/${slug}/delete`, { reason: "wildfire" });
    expect(deleted.status, await deleted.clone().text()).toBe(200);

    // "Within seconds": the recheck here is 300 ms, a notice a few ms; 15 s is slack for a loaded machine, not a measurement.
    const closes = await settlesWithin(Promise.all(editors.map((editor) => editor.closed)), 15_000, "every replica closing the deleted page's sockets");
    for (const close of closes) expect(close).toEqual({ code: CloseCode.pageDeleted, reason: "this page was deleted by an admin: wildfire" });
    if (lost) expect(lost.dropped()).toBe(1);
    for (const edge of cluster.edges) {
      expect(await tryWrite(cluster, edge, slug, writer.token)).toEqual({ wrote: false, code: CloseCode.pageDeleted, reason: expect.stringContaining("wildfire") });
    }
    // One open socket closed and one refused at open, on each replica.
    for (const edge of cluster.edges) expect(await deletedPageCloses(edge)).toBe(2);
    // The replicas still hold it (flushing its last edits) but read it to nobody.
    for (const edge of cluster.edges) {
      const read = await httpGet(`${edge.httpUrl}/pages/${slug}`);
      expect(read.status).toBe(410);
      expect(JSON.parse(read.body)).toMatchObject({ error: "deleted", slug });
    }
    expect(bystander.isOpen).toBe(true);
    await bystander.insert(0, "still here");
    expect((await pageRead(cluster, slug)).status).toBe(410);

    const lostUndelete = loss === "dropped by the broker" ? cluster.bus!.dropNext(subjects.pageDeletions(), 1) : undefined;
    expect((await adminPost(cluster, admin.cookie, `/api/pages/${slug}/undelete`, { reason: "a mistake" })).status).toBe(200);
    const markers = editors.flatMap((_, i) => [`[before ${i}]`, `[late ${i}]`]);
    const restored = await eventually(
      () => pageRead(cluster, slug),
      (read) => read.status === 200 && markers.every((marker) => read.text!.includes(marker)),
      15_000,
    );
    for (const marker of markers) expect(restored.text).toContain(marker);
    for (const edge of cluster.edges) {
      expect(await eventually(() => tryWrite(cluster, edge, slug, writer.token), (result) => result.wrote, 15_000)).toEqual({ wrote: true });
    }
    if (lostUndelete) expect(lostUndelete.dropped()).toBe(1);
    bystander.terminate();
  }, 90_000);
});
