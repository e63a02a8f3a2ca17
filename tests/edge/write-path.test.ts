import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { originText } from "../support/origin-text";
import WebSocket from "ws";
import { WebsocketProvider } from "y-websocket";
import * as Y from "yjs";
import { connectNats } from "../../broker/nats";
import { natsAnswers, TEST_NATS_URL } from "../support/test-nats";
import { type Cluster, type ClusterOptions, eventually, startCluster } from "../support/cluster";
import { testDatabases } from "../support/databases";

// The in-process broker with the embedded database, and NATS with the real
// Postgres (each when it answers; both are required in CI).
const setups: { name: string; options: Omit<ClusterOptions, "durability"> }[] = [
  { name: "the memory broker and PGlite", options: { database: testDatabases[0]!, broker: "memory" } },
  ...((await natsAnswers())
    ? [
        {
          name: `NATS and ${testDatabases.at(-1)!.name}`,
          options: {
            database: testDatabases.at(-1)!,
            broker: (name: string) => connectNats({ servers: TEST_NATS_URL, name }),
          },
        },
      ]
    : []),
];

const slugOf = (name: string) => `${name}_${Math.random().toString(36).slice(2, 8)}`;

/** A random position between two markers, so that no insert splits another marker. */
function boundary(text: string): number {
  const ends = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === "]") ends.push(i + 1);
  return ends[Math.floor(Math.random() * ends.length)]!;
}

describe.each(setups.flatMap((setup) => (["edge", "pop", "origin"] as const).map((durability) => ({ ...setup, durability }))))(
  "the edge write path at $durability durability over $name", ({ options, durability }) => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster({ ...options, durability });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it("clients on different replicas and PoPs converge, with every acknowledged edit exactly once at every replica and the origin", async () => {
    const slug = slugOf("Red_Wedding");
    const token = await cluster.token("Walder");
    const editors = cluster.edges.map((edge) => cluster.editor(edge, slug, token));
    await Promise.all(editors.map((editor) => editor.synced));

    // A stock y-websocket client on the last replica.
    const stockDoc = new Y.Doc();
    const stock = new WebsocketProvider(cluster.edges.at(-1)!.url, slug, stockDoc, {
      WebSocketPolyfill: WebSocket as never,
      params: { token },
      disableBc: true,
    });
    await new Promise<void>((resolve) => stock.once("sync", () => resolve()));

    const markers: string[] = [];
    const acks = [];
    for (let round = 0; round < 20; round++) {
      for (const [i, editor] of editors.entries()) {
        const marker = `[e${i}r${round}]`;
        markers.push(marker);
        acks.push(editor.insert(boundary(editor.text.toString()), marker));
      }
      const stockMarker = `[s${round}]`;
      markers.push(stockMarker);
      stockDoc.getText("body").insert(0, stockMarker);
    }
    const acknowledged = await Promise.all(acks);
    expect(acknowledged.every((ack) => ack.durability === durability)).toBe(true);

    const texts = async () => {
      return [
        (await originText(cluster.origin, slug)) ?? "",
        ...cluster.edges.map((edge) => edge.replica.pages.get(slug)?.doc.getText("body").toString() ?? ""),
        ...editors.map((editor) => editor.text.toString()),
        stockDoc.getText("body").toString(),
      ];
    };
    const converged = await eventually(texts, (all) => all.every((text) => text === all[0]) && markers.every((m) => all[0]!.includes(m)));
    for (const text of converged) expect(text).toBe(converged[0]);
    for (const marker of markers) expect(converged[0]!.split(marker).length - 1).toBe(1);

    stock.destroy();
    await Promise.all(editors.map((editor) => editor.close()));
  });
});
