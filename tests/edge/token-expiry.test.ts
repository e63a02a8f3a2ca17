import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import * as Y from "yjs";
import { CloseCode, isPermanentClose } from "../../protocol/close-codes";
import { encodeMessage } from "../../protocol/messages";
import { EDGE_AUDIENCE } from "../../protocol/token";
import { issueToken } from "../../origin/auth/tokens";
import { type Cluster, startCluster } from "../support/cluster";
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
});
