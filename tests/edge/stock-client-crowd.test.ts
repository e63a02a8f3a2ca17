import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { WebsocketProvider } from "y-websocket";
import * as Y from "yjs";
import { type Cluster, eventually, startCluster } from "../support/cluster";
import { testDatabases } from "../support/databases";

describe("stock y-websocket clients on a coalescing edge", () => {
  let cluster: Cluster;
  beforeAll(async () => {
    // A long window, so that every client's edits and cursors arrive merged.
    cluster = await startCluster({ database: testDatabases[0]!, broker: "memory", env: { EDGE_FANOUT_WINDOW_MS: "40", EDGE_RATE_LIMIT: "off" } });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it("converge and each sees every other editor's cursor, across replicas and PoPs", async () => {
    const slug = `Winterfell_${Math.random().toString(36).slice(2, 8)}`;
    const token = await cluster.token("Bran");
    const names = ["Arya", "Sansa", "Rickon", "Jon", "Theon", "Hodor"];
    const clients = names.map((name, i) => {
      const doc = new Y.Doc();
      const provider = new WebsocketProvider(cluster.edges[i % cluster.edges.length]!.url, slug, doc, {
        WebSocketPolyfill: WebSocket as never,
        params: { token },
        disableBc: true,
      });
      return { name, doc, provider };
    });
    await Promise.all(clients.map(({ provider }) => new Promise<void>((resolve) => provider.once("sync", () => resolve()))));

    for (const { name, doc, provider } of clients) {
      provider.awareness.setLocalStateField("user", { name });
      for (let n = 0; n < 20; n++) {
        doc.getText("body").insert(0, `[${name}${n}]`);
        provider.awareness.setLocalStateField("cursor", { index: n });
      }
    }

    const seenBy = ({ provider }: (typeof clients)[0]) =>
      [...provider.awareness.getStates().entries()]
        .filter(([id]) => id !== provider.awareness.clientID)
        .map(([, state]) => state as { user?: { name: string }; cursor?: { index: number } })
        .filter((state) => state.cursor?.index === 19)
        .map((state) => state.user?.name)
        .sort();
    for (const client of clients) {
      const others = names.filter((name) => name !== client.name).sort();
      expect(await eventually(() => seenBy(client), (seen) => seen.join() === others.join(), 10_000)).toEqual(others);
    }
    const texts = () => clients.map(({ doc }) => doc.getText("body").toString());
    const converged = await eventually(texts, (all) => all.every((text) => text === all[0]) && all[0]!.length > 0, 10_000);
    for (const text of converged) expect(text).toBe(converged[0]);
    for (const name of names) for (let n = 0; n < 20; n++) expect(converged[0]!.split(`[${name}${n}]`).length - 1).toBe(1);

    for (const { provider } of clients) provider.destroy();
  });
});
