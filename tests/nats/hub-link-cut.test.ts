import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ProtocolEditor } from "../../e2e/load/protocol-editor";
import { eventually } from "../support/cluster";
import { testDatabases } from "../support/databases";
import { type EdgeProcess, spawnEdge } from "../support/edge-process";
import { occurrences } from "../support/marker-writer";
import { type NatsTopology, natsServerAvailable, startNatsTopology } from "../support/nats-topology";
import { startHubOrigin, type HubOrigin } from "../support/hub-origin";
import type { TestOrigin } from "../support/origin";
import { originText } from "../support/origin-text";

const database = testDatabases.at(-1)!;

describe.runIf(natsServerAvailable())(`two PoPs on their NATS clusters, leaf nodes of a hub (docs/self-hosting), origin on ${database.name}`, () => {
  const pops = ["us-east", "eu-west"].map((pop) => `${pop}-${randomBytes(3).toString("hex")}`);
  let topology: NatsTopology;
  let atOrigin: HubOrigin;
  let origin: TestOrigin;
  let token: string;
  const edges: EdgeProcess[] = [];

  beforeAll(async () => {
    topology = await startNatsTopology({ pops });
    // The origin on the hub side, as the guide's origin.env has it.
    atOrigin = await startHubOrigin(database, topology.hub.url, { name: "Davos", password: "onion knight of the sea" });
    ({ origin, token } = atOrigin);
    for (const pop of pops) {
      edges.push(
        await spawnEdge({
          EDGE_POP: pop,
          EDGE_REPLICA: `${pop}-a`,
          ORIGIN_URL: atOrigin.url,
          EDGE_SERVICE_SECRET: origin.serviceSecret,
          // As the guide's env files: the PoP's three servers, the log at R3.
          NATS_URL: topology.pop(pop).urls.join(","),
          EDGE_DURABILITY: "pop",
          EDGE_LOG_REPLICAS: "3",
          EDGE_FLUSH_MS: "300",
          EDGE_HEARTBEAT_MS: "200",
          EDGE_MEMBER_EXPIRY_MS: "1000",
          EDGE_ANTI_ENTROPY_MS: "1000",
          EDGE_RATE_LIMIT: "off",
        }),
      );
    }
  });

  afterAll(async () => {
    for (const edge of edges) edge.kill("SIGKILL");
    await Promise.all(edges.map((edge) => edge.exited));
    await atOrigin?.close();
    await topology?.stop();
  });

  it("with the hub down (every PoP's leaf links cut), each PoP keeps acknowledging at pop; after it returns both PoPs and the origin converge, each edit once", async () => {
    const slug = `Cut_${randomBytes(3).toString("hex")}`;
    const [east, west] = edges.map((edge) => ProtocolEditor.connect({ url: edge.url, slug, token })) as [ProtocolEditor, ProtocolEditor];
    await Promise.all([east.synced, west.synced]);
    const markers: string[] = [];
    const type = async (editor: ProtocolEditor, prefix: string, count: number) => {
      for (let i = 0; i < count; i++) {
        const marker = `[${prefix}${i}]`;
        const ack = await editor.insert(editor.text.length, marker);
        expect(ack.durability, marker).toBe("pop");
        markers.push(marker);
      }
    };
    await type(east, "e-before-", 10);
    await type(west, "w-before-", 10);

    // The hub gone: no PoP server has its leaf link, the origin has no NATS.
    await topology.hub.kill("SIGKILL");
    for (const pop of pops) await topology.leavesLost(pop);
    await type(east, "e-cut-", 20);
    await type(west, "w-cut-", 20);

    await topology.hub.start();
    await topology.leavesConnected();
    await type(east, "e-after-", 10);
    await type(west, "w-after-", 10);

    const complete = (text: string) => markers.every((marker) => text.includes(marker));
    const atOrigin = await eventually(async () => (await originText(origin, slug)) ?? "", complete, 30_000);
    await eventually(() => east.text.toString(), (text) => text === atOrigin, 30_000);
    await eventually(() => west.text.toString(), (text) => text === atOrigin, 30_000);
    expect(markers.filter((marker) => !atOrigin.includes(marker)), "markers missing at the origin").toEqual([]);
    for (const marker of markers) expect(occurrences(atOrigin, marker), marker).toBe(1);
    expect(east.text.toString()).toBe(atOrigin);
    expect(west.text.toString()).toBe(atOrigin);
    east.terminate();
    west.terminate();
  }, 180_000);
});
