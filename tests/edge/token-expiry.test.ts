import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import * as Y from "yjs";
import { CloseCode, isPermanentClose } from "../../protocol/close-codes";
import { encodeMessage } from "../../protocol/messages";
import { EDGE_AUDIENCE } from "../../protocol/token";
import { issueToken } from "../../origin/auth/tokens";
import { type Cluster, eventually, startCluster } from "../support/cluster";
import { originText } from "../support/origin-text";
import { stockClient } from "../support/stock-client";
import { testDatabases } from "../support/databases";

/**
 * A token is checked when the socket opens; an open connection must not
 * outlive it (issue 18, item 2). Past its expiry and a grace, the edge
 * closes the connection with a code stock clients reconnect on (they must
 * bring a fresh token: the same one is then refused with 4401).
 */
describe("a connection whose token expires while it is open", () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster({ database: testDatabases[0]!, broker: "memory", pops: ["north"], replicasPerPop: 1, env: { EDGE_TOKEN_GRACE_MS: "300" } });
    await cluster.token("Jaqen");
  });
  afterAll(() => cluster?.stop());

  it("is closed with 4511 after the grace, a code outside y-websocket's permanent 4400-4499", async () => {
    const user = await cluster.origin.db.prisma.user.findFirstOrThrow({ where: { name: "Jaqen" } });
    const token = await issueToken(cluster.origin.keys, { userId: user.id, name: user.name, role: "editor", createdAt: user.createdAt }, EDGE_AUDIENCE, 2);
    const socket = new WebSocket(`${cluster.edges[0]!.url}/Faceless_${Date.now()}?${new URLSearchParams({ token })}`);
    socket.on("error", () => {});
    const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.on("close", (code, reason) => resolve({ code, reason: reason.toString() })));
    await new Promise<void>((resolve, reject) => {
      socket.once("open", () => resolve());
      socket.once("error", reject);
    });
    socket.send(encodeMessage({ type: "sync-step-1", stateVector: Y.encodeStateVector(new Y.Doc()) }));
    const { code, reason } = await closed;
    expect(code).toBe(CloseCode.tokenExpired);
    expect(reason).toMatch(/token expired at .*reconnect with a fresh one/);
    expect(isPermanentClose(code)).toBe(false);
  });

  it("a stock y-websocket provider given a fresh token on 4511, as PROTOCOL.md says, reconnects and loses nothing", async () => {
    const user = await cluster.origin.db.prisma.user.findFirstOrThrow({ where: { name: "Jaqen" } });
    const identity = { userId: user.id, name: user.name, role: "editor" as const, createdAt: user.createdAt };
    const slug = `Many_faces_${Date.now()}`;
    const client = stockClient(cluster.edges[0]!.url, slug, await issueToken(cluster.origin.keys, identity, EDGE_AUDIENCE, 2));
    // The application's part: a new token in place before the provider reconnects (at once, synchronously).
    const fresh = await issueToken(cluster.origin.keys, identity, EDGE_AUDIENCE, 900);
    client.provider.on("connection-close", (event) => {
      if (event?.code === CloseCode.tokenExpired) client.provider.params.token = fresh;
    });
    try {
      await eventually(() => client.connected, Boolean, 10_000);
      client.type(["[before]"]);
      await eventually(() => client.closes.some((close) => close.code === CloseCode.tokenExpired), Boolean, 15_000);
      client.type(["[while away]"]);
      await eventually(() => client.connected, Boolean, 15_000);
      client.type(["[after]"]);
      const text = await eventually(async () => (await originText(cluster.origin, slug)) ?? "", (value) => ["[before]", "[while away]", "[after]"].every((marker) => value.includes(marker)), 20_000);
      expect(text).toContain("[while away]");
      expect(client.closes.map((close) => close.code)).not.toContain(CloseCode.unauthorized);
    } finally {
      client.destroy();
    }
  });
});
