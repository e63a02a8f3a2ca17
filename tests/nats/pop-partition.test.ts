import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ProtocolEditor } from "../../e2e/load/protocol-editor";
import { eventually } from "../support/cluster";
import { testDatabases } from "../support/databases";
import { type EdgeProcess, spawnEdge } from "../support/edge-process";
import { occurrences } from "../support/marker-writer";
import { type NatsHub, natsServerAvailable, startNatsHub } from "../support/nats-topology";
import { startHubOrigin, type HubOrigin } from "../support/hub-origin";
import type { TestOrigin } from "../support/origin";
import { originText } from "../support/origin-text";

const database = testDatabases.at(-1)!;

/**
 * One PoP cut off the hub while the other is not (the spike's
 * --partition-pop): its leaf links go through a TCP link the test cuts, so
 * the hub, the origin and the other PoP carry on. The cut PoP keeps
 * acknowledging at `pop`; both PoPs' flushes keep reaching the origin (over
 * HTTP, not NATS); after the link returns, everything converges with each
 * edit once.
 */
describe.runIf(natsServerAvailable())(`one PoP partitioned from the hub and the other PoP, origin on ${database.name}`, () => {
  const [cutPop, otherPop] = ["us-east", "eu-west"].map((pop) => `${pop}-${randomBytes(3).toString("hex")}`) as [string, string];
  let hub: NatsHub;
  let atOrigin: HubOrigin;
  let origin: TestOrigin;
  let token: string;
  const edges: EdgeProcess[] = [];

  beforeAll(async () => {
    hub = await startNatsHub();
    await hub.addPop(cutPop, { cuttableLink: true });
    await hub.addPop(otherPop);
    await hub.leavesConnected();
    // The origin on the hub side, as the guide's origin.env has it.
    atOrigin = await startHubOrigin(database, hub.server.url, { name: "Varys", password: "the little birds of the spider" });
    ({ origin, token } = atOrigin);
    for (const pop of [cutPop, otherPop]) {
      edges.push(
        await spawnEdge({
          EDGE_POP: pop,
          EDGE_REPLICA: `${pop}-a`,
          ORIGIN_URL: atOrigin.url,
          EDGE_SERVICE_SECRET: origin.serviceSecret,
          NATS_URL: hub.pops.get(pop)!.urls.join(","),
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
    await hub?.stop();
  });

  it("the cut PoP acknowledges at pop, both PoPs' edits reach the origin meanwhile, and all converge once the link returns", async () => {
    const slug = `Partition_${randomBytes(3).toString("hex")}`;
    const [cut, other] = edges.map((edge) => ProtocolEditor.connect({ url: edge.url, slug, token })) as [ProtocolEditor, ProtocolEditor];
    await Promise.all([cut.synced, other.synced]);
    const markers: string[] = [];
    const type = async (editor: ProtocolEditor, prefix: string, count: number) => {
      const typed: string[] = [];
      for (let i = 0; i < count; i++) {
        const marker = `[${prefix}${i}]`;
        const ack = await editor.insert(editor.text.length, marker);
        expect(ack.durability, marker).toBe("pop");
        typed.push(marker);
      }
      markers.push(...typed);
      return typed;
    };
    await type(cut, "c-before-", 5);
    await type(other, "o-before-", 5);

    const link = hub.pops.get(cutPop)!.link!;
    link.cut();
    await hub.leavesLost(cutPop);
    const cutTyped = await type(cut, "c-cut-", 20);
    const otherTyped = await type(other, "o-cut-", 20);
    // Flushes go to the origin over HTTP, not NATS: both PoPs' edits reach it while the partition lasts.
    await eventually(async () => (await originText(origin, slug)) ?? "", (text) => [...cutTyped, ...otherTyped].every((marker) => text.includes(marker)), 30_000);
    // What the cut takes away is the live path between the PoPs (relay, presence, the origin's change
    // notices): the other PoP's live editor sees the cut PoP's edits only once they are at the origin.
    expect(link.isCut).toBe(true);

    link.restore();
    await hub.leavesConnected();
    await type(cut, "c-after-", 5);
    await type(other, "o-after-", 5);

    const complete = (text: string) => markers.every((marker) => text.includes(marker));
    const atOrigin = await eventually(async () => (await originText(origin, slug)) ?? "", complete, 30_000);
    await eventually(() => cut.text.toString(), (text) => text === atOrigin, 30_000);
    await eventually(() => other.text.toString(), (text) => text === atOrigin, 30_000);
    expect(markers.filter((marker) => !atOrigin.includes(marker)), "markers missing at the origin").toEqual([]);
    for (const marker of markers) expect(occurrences(atOrigin, marker), marker).toBe(1);
    cut.terminate();
    other.terminate();
  }, 180_000);
});
