import { randomBytes } from "node:crypto";
import { jetstreamManager, StorageType } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { subjects } from "../../protocol/subjects";
import { eventually } from "../support/cluster";
import { testDatabases } from "../support/databases";
import { type EdgeProcess, spawnEdge } from "../support/edge-process";
import { MarkerWriter } from "../support/marker-writer";
import { type NatsTopology, natsServerAvailable, startNatsTopology } from "../support/nats-topology";
import { startHubOrigin, type HubOrigin } from "../support/hub-origin";
import type { TestOrigin } from "../support/origin";

const database = testDatabases.at(-1)!;

/**
 * A replica that starts while its PoP's R3 log cannot answer (its leader
 * just died and no quorum is left to elect another, as in the spike's
 * --kill-nats, where a replica added mid-spike met the election) waits for
 * the log instead of exiting: it must be up once the cluster is.
 */
describe.runIf(natsServerAvailable())(`a replica started while its PoP's log has no quorum, origin on ${database.name}`, () => {
  const pop = `no-quorum-${randomBytes(3).toString("hex")}`;
  let topology: NatsTopology;
  let atOrigin: HubOrigin;
  let origin: TestOrigin;
  let token: string;
  let edge: EdgeProcess | undefined;

  beforeAll(async () => {
    topology = await startNatsTopology({ pops: [pop] });
    // The origin on the hub side, as the guide's origin.env has it.
    atOrigin = await startHubOrigin(database, topology.hub.url, { name: "Podrick", password: "squire of the lady brienne" });
    ({ origin, token } = atOrigin);
  });

  afterAll(async () => {
    edge?.kill("SIGKILL");
    await edge?.exited;
    await atOrigin?.close();
    await topology?.stop();
  });

  it("waits for the log's quorum to come back, then serves and acknowledges at pop", async () => {
    const stream = subjects.logStream(pop);
    const { servers, urls } = topology.pop(pop);
    const nc = await connect({ servers: urls });
    await (await jetstreamManager(nc)).streams.add({ name: stream, subjects: [subjects.logAll(pop)], storage: StorageType.File, num_replicas: 3 });
    await nc.close();
    await eventually(() => topology.streamLeader(pop, stream), (name) => name !== undefined);

    // Two of three down: the stream has no quorum, its requests time out.
    const [kept, down1, down2] = servers as [(typeof servers)[0], (typeof servers)[0], (typeof servers)[0]];
    await down1.kill("SIGKILL");
    await down2.kill("SIGKILL");

    const starting = spawnEdge(
      {
        EDGE_POP: pop,
        EDGE_REPLICA: `${pop}-a`,
        ORIGIN_URL: atOrigin.url,
        EDGE_SERVICE_SECRET: origin.serviceSecret,
        NATS_URL: kept.url,
        EDGE_DURABILITY: "pop",
        EDGE_LOG_REPLICAS: "3",
        EDGE_FLUSH_MS: "300",
        EDGE_RATE_LIMIT: "off",
      },
      90_000,
    );
    // Awaited below; until then a failed start must not be an unhandled rejection.
    starting.catch(() => undefined);
    // Longer than a JetStream request's timeout: without waiting out the
    // election, the replica has exited by now.
    await new Promise((resolve) => setTimeout(resolve, 8000));
    await down1.start();
    edge = await starting;

    const writer = new MarkerWriter({ url: edge.url, slug: `Quorum_${randomBytes(3).toString("hex")}`, token, prefix: "q", durability: "pop" });
    writer.start();
    expect(await eventually(() => writer.acked.length, (count) => count >= 10, 30_000)).toBeGreaterThanOrEqual(10);
    await writer.stop();
    expect(writer.wrongLevels).toEqual([]);
  }, 150_000);
});
