import { afterEach, describe, expect, it } from "vitest";
import { WebSocket as NodeWebSocket } from "ws";
import { Awareness } from "y-protocols/awareness";
import * as Y from "yjs";
import { CloseCode } from "../../protocol/close-codes";
import { MOVED_TO_A_LONG_NAME, movedCloseReason, movedPageMessage } from "../../protocol/moved-page";
import { FakeReplica } from "../../e2e/support/fake-edge";
import type { EdgeEndpoint } from "../edges";
import { EdgeProvider, type ProviderStatus } from "./provider";
import type { TokenSource } from "./tokens";

const SLUG = "Red_Wedding";

const started: { stop(): unknown }[] = [];

async function replica(pop: string, name: string): Promise<FakeReplica> {
  const fake = await new FakeReplica(pop, name).start();
  started.push(fake);
  return fake;
}

function staticTokens(token: string | null = "token-1"): TokenSource & { invalidated: number } {
  return { invalidated: 0, get: async () => token, invalidate() { this.invalidated += 1; }, stop() {} };
}

function provider(options: {
  doc?: Y.Doc;
  edges: () => EdgeEndpoint[];
  pop?: string;
  tokens?: TokenSource;
  awareness?: Awareness;
  readOnly?: boolean;
  findMovedPage?: (slug: string) => Promise<string | undefined>;
}) {
  const doc = options.doc ?? new Y.Doc();
  const created = new EdgeProvider({
    slug: SLUG,
    doc,
    awareness: options.awareness,
    pop: options.pop ?? "us-east",
    listEdges: async () => options.edges(),
    tokens: options.tokens ?? staticTokens(),
    readOnly: options.readOnly,
    findMovedPage: options.findMovedPage,
    WebSocketImpl: NodeWebSocket as unknown as typeof WebSocket,
    backoff: { initialMs: 20, maxMs: 100 },
  });
  started.push({ stop: () => created.destroy() });
  return { provider: created, doc, body: doc.getText("body") };
}

async function until(provider: EdgeProvider, predicate: (status: ProviderStatus) => boolean, what: string): Promise<ProviderStatus> {
  const deadline = Date.now() + 5_000;
  while (Date.now() < deadline) {
    const status = provider.getStatus();
    if (predicate(status)) return status;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`timed out waiting for ${what}; status ${JSON.stringify(provider.getStatus())}`);
}

afterEach(async () => {
  for (const thing of started.splice(0).reverse()) await thing.stop();
});

describe("the browser's edge provider", () => {
  it("numbers its sync-step-2 and update messages and counts acknowledged edits", async () => {
    const edge = await replica("us-east", "us-east-a");
    const { provider: p, body } = provider({ edges: () => [edge.endpoint] });
    await p.whenSynced();
    body.insert(0, "Walder ");
    body.insert(7, "Frey ");
    body.insert(12, "hosts.");
    const status = await until(p, (s) => s.unacknowledgedEdits === 0 && s.acknowledgedAt.edge !== undefined, "acks");
    expect(edge.text(SLUG)).toBe("Walder Frey hosts.");
    expect(edge.received[0]!.messages.filter((m) => m.type === "sync-step-2" || m.type === "update").map((m) => m.type)).toEqual([
      "sync-step-2",
      "update",
      "update",
      "update",
    ]);
    expect(edge.received[0]!.token).toBe("token-1");
    expect(status).toMatchObject({ phase: "connected", pop: "us-east", replica: "us-east-a", synced: true, canWrite: true });
  });

  it("sends what was typed before the first sync in its sync step 2", async () => {
    const edge = await replica("us-east", "us-east-a");
    (await edge.hub.docOf(SLUG)).getText("body").insert(0, "The Twins. ");
    const doc = new Y.Doc();
    doc.getText("body").insert(0, "Typed offline. ");
    const { provider: p, body } = provider({ doc, edges: () => [edge.endpoint] });
    await until(p, (s) => s.synced && s.unacknowledgedEdits === 0, "sync");
    expect(edge.text(SLUG)).toBe(body.toString());
    expect(edge.text(SLUG)).toContain("Typed offline.");
    expect(edge.text(SLUG)).toContain("The Twins.");
  });

  it("loses nothing typed when its replica dies unacknowledged: it resyncs with another replica of the PoP", async () => {
    const a = await replica("us-east", "us-east-a");
    const b = await replica("us-east", "us-east-b");
    const other = await replica("eu-west", "eu-west-a");
    let listed = [other.endpoint, a.endpoint];
    const { provider: p, body } = provider({ edges: () => listed });
    await until(p, (s) => s.synced && s.replica === "us-east-a", "replica a");

    a.acknowledge = false; // replica a applies but never acknowledges, then dies
    body.insert(0, "The Lannisters send their regards.");
    await until(p, () => a.text(SLUG).length > 0, "replica a to receive the edit");
    expect(p.getStatus().unacknowledgedEdits).toBe(1);

    await a.stop("abrupt");
    await until(p, (s) => s.phase === "offline", "offline");
    body.insert(body.length, " Typed while offline.");
    expect(p.getStatus()).toMatchObject({ phase: "offline", unacknowledgedEdits: 2 });

    listed = [other.endpoint, a.endpoint, b.endpoint];
    const status = await until(p, (s) => s.synced && s.unacknowledgedEdits === 0, "resync with b");
    expect(status.replica).toBe("us-east-b");
    expect(status.pop).toBe("us-east");
    expect(b.text(SLUG)).toBe("The Lannisters send their regards. Typed while offline.");
    expect(other.received).toHaveLength(0);
  });

  it("moves to another replica at once when its replica drains", async () => {
    const a = await replica("us-east", "us-east-a");
    const b = await replica("us-east", "us-east-b");
    const { provider: p, body } = provider({ edges: () => [a.endpoint, b.endpoint] });
    const first = await until(p, (s) => s.synced, "sync");
    const [from, to] = first.replica === "us-east-a" ? [a, b] : [b, a];
    body.insert(0, "Rains of Castamere");
    await until(p, (s) => s.unacknowledgedEdits === 0, "ack");
    await from.stop(CloseCode.draining);
    const moved = await until(p, (s) => s.synced && s.replica === to.replica, "the other replica");
    expect(moved.attempts).toBe(0);
    expect(to.text(SLUG)).toBe("Rains of Castamere");
  });

  it("gets a new token when the edge refuses one with 4401", async () => {
    const edge = await replica("us-east", "us-east-a");
    edge.refuseToken = (token) => token === "expired";
    let current = "expired";
    const tokens: TokenSource & { invalidated: number } = {
      invalidated: 0,
      get: async () => current,
      invalidate() {
        this.invalidated += 1;
        current = "fresh";
      },
      stop() {},
    };
    const { provider: p } = provider({ edges: () => [edge.endpoint], tokens });
    await until(p, (s) => s.synced, "sync with a fresh token");
    expect(tokens.invalidated).toBe(1);
    expect(edge.received.map((connection) => connection.token)).toEqual(["fresh"]);
  });

  it("gets a new token and reconnects, losing nothing typed, when the edge closes it for an expired token (4511)", async () => {
    const edge = await replica("us-east", "us-east-a");
    let current = "first";
    const tokens: TokenSource & { invalidated: number } = {
      invalidated: 0,
      get: async () => current,
      invalidate() {
        this.invalidated += 1;
        current = "second";
      },
      stop() {},
    };
    const { provider: p, body } = provider({ edges: () => [edge.endpoint], tokens });
    await until(p, (s) => s.synced, "the first sync");
    edge.closeClients(CloseCode.tokenExpired, "your token expired");
    // Typed as the close arrives: it goes with the next connection's sync step 2 if not before.
    body.insert(0, "[typed while reconnecting]");
    const deadline = Date.now() + 5000;
    while (edge.received.length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    await until(p, (s) => s.synced && s.phase === "connected", "a sync with a fresh token");
    expect(tokens.invalidated).toBe(1);
    expect(edge.received.map((connection) => connection.token)).toEqual(["first", "second"]);
    while (!edge.text(SLUG).includes("[typed while reconnecting]") && Date.now() < deadline + 5000) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(edge.text(SLUG)).toContain("[typed while reconnecting]");
  });

  it("stops, saying why, when the edge closes it because the account was blocked (4403), and does not reconnect", async () => {
    const edge = await replica("us-east", "us-east-a");
    const { provider: p } = provider({ edges: () => [edge.endpoint] });
    await until(p, (s) => s.synced, "the first sync");
    edge.closeClients(CloseCode.blocked, "blocked by an admin with no end: vandalism");
    const stopped = await until(p, (s) => s.phase === "failed", "the blocked close");
    expect(stopped.problem).toBe("you can no longer edit: blocked by an admin with no end: vandalism");
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(edge.received).toHaveLength(1);
  });

  it("stops, saying why, when the edge closes it because the page was deleted (4410), and does not reconnect", async () => {
    const edge = await replica("us-east", "us-east-a");
    const { provider: p } = provider({ edges: () => [edge.endpoint] });
    await until(p, (s) => s.synced, "the first sync");
    edge.closeClients(CloseCode.pageDeleted, "this page was deleted by an admin: spam");
    const stopped = await until(p, (s) => s.phase === "failed", "the deleted close");
    expect(stopped.problem).toBe("you can no longer edit: this page was deleted by an admin: spam");
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(edge.received).toHaveLength(1);
  });

  it("follows a moved page under the name its close (4411) gives, with what it had not sent", async () => {
    const edge = await replica("us-east", "us-east-a");
    const { provider: p, body } = provider({ edges: () => [edge.endpoint] });
    await until(p, (s) => s.synced, "the first sync");
    edge.closeClients(CloseCode.pageMoved, movedPageMessage("The_Twins"));
    body.insert(0, "typed while it moved. ");
    const moved = await until(p, (s) => s.synced && s.movedTo === "The_Twins", "the sync under the new name");
    expect(moved.phase).toBe("connected");
    expect(edge.received.map((connection) => connection.slug)).toEqual([SLUG, "The_Twins"]);
    await until(p, (s) => s.unacknowledgedEdits === 0, "the ack of the edit");
    expect(edge.text("The_Twins")).toBe("typed while it moved. ");
  });

  it("asks the wiki where a moved page went when the close could not name it (a name too long for a close frame)", async () => {
    const edge = await replica("us-east", "us-east-a");
    const longName = `The_${"Twins_".repeat(30)}Crossing`;
    const asked: string[] = [];
    const findMovedPage = async (slug: string) => {
      asked.push(slug);
      return slug === SLUG ? longName : undefined;
    };
    const { provider: p } = provider({ edges: () => [edge.endpoint], findMovedPage });
    await until(p, (s) => s.synced, "the first sync");
    edge.closeClients(CloseCode.pageMoved, movedCloseReason(longName));
    const moved = await until(p, (s) => s.synced && s.movedTo === longName, "the sync under the long name");
    expect(moved.phase).toBe("connected");
    expect(asked).toEqual([SLUG]);
    expect(edge.received.map((connection) => connection.slug)).toEqual([SLUG, longName]);
  });

  it("stops, saying why, when neither the close nor the wiki names a moved page's new name", async () => {
    const edge = await replica("us-east", "us-east-a");
    const { provider: p } = provider({ edges: () => [edge.endpoint], findMovedPage: async () => undefined });
    await until(p, (s) => s.synced, "the first sync");
    edge.closeClients(CloseCode.pageMoved, MOVED_TO_A_LONG_NAME);
    const stopped = await until(p, (s) => s.phase === "failed", "the moved close");
    expect(stopped.problem).toContain("the page was moved");
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(edge.received).toHaveLength(1);
  });

  it("shows the edge's reason when it denies writes", async () => {
    const edge = await replica("us-east", "us-east-a");
    edge.denyWrites = "this page is protected: only admins can edit it";
    const { provider: p, body } = provider({ edges: () => [edge.endpoint] });
    await p.whenSynced();
    body.insert(0, "vandalism");
    const status = await until(p, (s) => s.denied !== undefined, "denial");
    expect(status).toMatchObject({ canWrite: false, denied: "this page is protected: only admins can edit it", unacknowledgedEdits: 1 });
    expect(edge.text(SLUG)).toBe("");
  });

  it("forgets a denial once another replica's session lets it write (a draining replica refused its last moments' edit)", async () => {
    const a = await replica("us-east", "us-east-a");
    const b = await replica("us-east", "us-east-b");
    const { provider: p, body } = provider({ edges: () => [a.endpoint, b.endpoint] });
    const first = await until(p, (s) => s.synced, "sync");
    const [from, to] = first.replica === "us-east-a" ? [a, b] : [b, a];
    from.denyWrites = "this replica is shutting down: reconnect to another replica of the PoP";
    body.insert(0, "Typed during the move.");
    await until(p, (s) => s.denied !== undefined, "denial");
    await from.stop(CloseCode.draining);
    const moved = await until(p, (s) => s.synced && s.replica === to.replica && s.unacknowledgedEdits === 0, "the other replica's ack");
    expect(moved).toMatchObject({ canWrite: true, denied: undefined });
    expect(to.text(SLUG)).toBe("Typed during the move.");
  });

  it("connects to the chosen PoP, or to the first PoP listed when the choice has no edge", async () => {
    const east = await replica("us-east", "us-east-a");
    const west = await replica("eu-west", "eu-west-a");
    const { provider: chosen } = provider({ edges: () => [east.endpoint, west.endpoint], pop: "eu-west" });
    expect((await until(chosen, (s) => s.synced, "sync")).replica).toBe("eu-west-a");
    const { provider: fallback } = provider({ edges: () => [east.endpoint, west.endpoint], pop: "ap-south" });
    expect((await until(fallback, (s) => s.synced, "sync")).pop).toBe("us-east");
  });

  it("shares text and cursors between two editors and never echoes an update back", async () => {
    const edge = await replica("us-east", "us-east-a");
    const docA = new Y.Doc();
    const docB = new Y.Doc();
    const awarenessA = new Awareness(docA);
    const awarenessB = new Awareness(docB);
    awarenessA.setLocalStateField("user", { name: "Robb", color: "#c0392b" });
    awarenessB.setLocalStateField("user", { name: "Catelyn", color: "#2980b9" });
    const one = provider({ doc: docA, awareness: awarenessA, edges: () => [edge.endpoint] });
    const two = provider({ doc: docB, awareness: awarenessB, edges: () => [edge.endpoint] });
    await Promise.all([one.provider.whenSynced(), two.provider.whenSynced()]);
    one.body.insert(0, "Robb writes. ");
    two.body.insert(0, "Catelyn writes. ");
    await until(one.provider, () => one.body.toString() === two.body.toString() && one.body.length > 20, "convergence");
    await until(one.provider, () => [...awarenessA.getStates().values()].some((s) => s.user?.name === "Catelyn"), "cursor of B at A");
    await until(two.provider, () => [...awarenessB.getStates().values()].some((s) => s.user?.name === "Robb"), "cursor of A at B");
    const fromA = edge.received.find((c) => c.messages.some((m) => m.type === "update"))!;
    expect(fromA.messages.filter((m) => m.type === "update")).toHaveLength(1);
    awarenessA.destroy();
    awarenessB.destroy();
  });

  it("as a live reader it receives updates and sends none", async () => {
    const edge = await replica("us-east", "us-east-a");
    (await edge.hub.docOf(SLUG)).getText("body").insert(0, "Old text.");
    const { provider: p, body } = provider({ edges: () => [edge.endpoint], readOnly: true });
    await p.whenSynced();
    expect(body.toString()).toBe("Old text.");
    const writer = provider({ edges: () => [edge.endpoint] });
    await writer.provider.whenSynced();
    writer.body.insert(writer.body.length, " New text.");
    await until(p, () => body.toString() === "Old text. New text.", "the live update");
    expect(edge.received[0]!.messages.map((m) => m.type)).toEqual(["sync-step-1"]);
  });
});
