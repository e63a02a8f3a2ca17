import { randomBytes } from "node:crypto";
import { originText } from "../support/origin-text";
import net from "node:net";
import { decodeJwt, generateKeyPair, SignJWT } from "jose";
import * as encoding from "lib0/encoding";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import * as awarenessProtocol from "y-protocols/awareness";
import * as Y from "yjs";
import type { RunningEdge } from "../../edge/edge";
import { CloseCode } from "../../protocol/close-codes";
import { decodeMessage, encodeMessage, MessageType, SyncStep } from "../../protocol/messages";
import { EDGE_AUDIENCE, TOKEN_ALGORITHM, TOKEN_ISSUER } from "../../protocol/token";
import type { Ack, ProtocolEditor } from "../../e2e/load/protocol-editor";
import { type Cluster, eventually, startCluster } from "../support/cluster";
import { clusterSetups } from "../support/cluster-setups";

const slugOf = (name: string) => `${name}_${Math.random().toString(36).slice(2, 8)}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Small, so that oversized messages are cheap to send. */
const MAX_MESSAGE_BYTES = 65_536;
const HOSTILE_MESSAGES = 1000;
/** Hostile connections open at once: 20 waves of 50. */
const WAVE = 50;

interface Closing {
  code: number;
  reason: string;
}

/** mulberry32: the storm is random, and its seed (in every failure message) replays it. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function throws(run: () => unknown): boolean {
  try {
    run();
    return false;
  } catch {
    return true;
  }
}

interface Hostile {
  kind: string;
  /** A string goes as a text frame. */
  data: Uint8Array | string;
  /** The close code the edge must answer it with. */
  expected: number;
  /** "early": sent as the socket opens, while the token is checked; "attached": after the edge greeted the client. */
  when: "early" | "attached";
}

/**
 * 1,000 messages an edge must refuse, each built so that it cannot be valid:
 * the generator checks every one against the same decoders the edge uses, so
 * a message that happened to be harmless is never counted as hostile.
 */
function hostileMessages(seed: number): Hostile[] {
  const random = prng(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
  const bytes = (n: number) => Uint8Array.from({ length: n }, () => int(0, 255));
  const pick = <T>(items: readonly T[]): T => items[int(0, items.length - 1)]!;

  // Valid messages from a client that would write "MALLORY" if any of them got through.
  const mallory = new Y.Doc();
  mallory.getText("body").insert(0, "MALLORY ".repeat(12));
  const malloryAwareness = new awarenessProtocol.Awareness(mallory);
  malloryAwareness.setLocalState({ user: { name: "Mallory", color: "#000" } });
  const valid = [
    encodeMessage({ type: "update", update: Y.encodeStateAsUpdate(mallory) }),
    encodeMessage({ type: "sync-step-2", update: Y.encodeStateAsUpdate(mallory) }),
    encodeMessage({ type: "sync-step-1", stateVector: Y.encodeStateVector(mallory) }),
    encodeMessage({ type: "awareness", update: awarenessProtocol.encodeAwarenessUpdate(malloryAwareness, [mallory.clientID]) }),
  ];
  malloryAwareness.destroy();

  const truncated = (): Uint8Array => {
    const message = pick(valid);
    const cut = message.slice(0, int(1, message.byteLength - 1));
    if (!throws(() => decodeMessage(cut))) throw new Error(`generator: a truncated message decoded: ${cut.join(",")}`);
    return cut;
  };
  const noise = (): Uint8Array => {
    for (;;) {
      const candidate = bytes(int(1, 256));
      if (throws(() => decodeMessage(candidate))) return candidate;
    }
  };
  const unknownType = (): Uint8Array => {
    const encoder = encoding.createEncoder();
    encoding.writeVarUint(encoder, random() < 0.5 ? int(4, 99) : int(102, 1_000_000));
    encoding.writeUint8Array(encoder, bytes(int(0, 32)));
    const message = encoding.toUint8Array(encoder);
    if (!throws(() => decodeMessage(message))) throw new Error(`generator: an unknown type decoded: ${message.join(",")}`);
    return message;
  };
  // Well-formed, but only an edge may send them.
  const serverOnly = (): Uint8Array =>
    encodeMessage(
      pick([
        { type: "ack", seq: int(1, 100), durability: "edge" },
        { type: "session", pop: "mallory", replica: "mallory-a", durability: "origin", role: "admin", canWrite: true },
        { type: "auth-denied", reason: "mallory says no" },
      ] as const),
    );
  const garbageSync = (): Uint8Array => {
    for (;;) {
      const step = pick([SyncStep.step1, SyncStep.step2, SyncStep.update]);
      const payload = bytes(int(1, 128));
      const invalid = step === SyncStep.step1 ? throws(() => Y.decodeStateVector(payload)) : throws(() => Y.decodeUpdate(payload));
      if (!invalid) continue;
      const encoder = encoding.createEncoder();
      encoding.writeVarUint(encoder, MessageType.sync);
      encoding.writeVarUint(encoder, step);
      encoding.writeVarUint8Array(encoder, payload);
      return encoding.toUint8Array(encoder);
    }
  };
  const garbageAwareness = (): Uint8Array => {
    for (;;) {
      const payload = bytes(int(1, 96));
      const scratch = new awarenessProtocol.Awareness(new Y.Doc());
      const invalid = throws(() => awarenessProtocol.applyAwarenessUpdate(scratch, payload, "test"));
      scratch.destroy();
      if (invalid) return encodeMessage({ type: "awareness", update: payload });
    }
  };
  const textFrame = (): string => Array.from({ length: int(1, 100) }, () => String.fromCharCode(int(32, 126))).join("");
  // A real update, too large: if the limit failed, the page would fill with M.
  const oversized = (): Uint8Array => {
    const doc = new Y.Doc();
    doc.getText("body").insert(0, "M".repeat(int(MAX_MESSAGE_BYTES + 1, 2 * MAX_MESSAGE_BYTES - 64)));
    const message = encodeMessage({ type: "update", update: Y.encodeStateAsUpdate(doc) });
    if (message.byteLength <= MAX_MESSAGE_BYTES || message.byteLength > 2 * MAX_MESSAGE_BYTES) throw new Error("generator: oversized out of range");
    return message;
  };

  const plan: [string, number, number, () => Uint8Array | string][] = [
    ["truncated", 300, CloseCode.badMessage, truncated],
    ["random bytes", 150, CloseCode.badMessage, noise],
    ["unknown type", 150, CloseCode.badMessage, unknownType],
    ["server-only type", 50, CloseCode.badMessage, serverOnly],
    ["garbage Yjs in sync", 200, CloseCode.badMessage, garbageSync],
    ["garbage awareness", 60, CloseCode.badMessage, garbageAwareness],
    ["text frame", 70, CloseCode.badMessage, textFrame],
    ["oversized update", 20, CloseCode.messageTooLarge, oversized],
  ];
  const messages: Hostile[] = plan.flatMap(([kind, count, expected, make]) =>
    Array.from({ length: count }, () => ({ kind, data: make(), expected, when: random() < 0.5 ? ("early" as const) : ("attached" as const) })),
  );
  for (let i = messages.length - 1; i > 0; i--) {
    const j = int(0, i);
    [messages[i], messages[j]] = [messages[j]!, messages[i]!];
  }
  return messages;
}

/** A raw socket (no client library to tidy up what it sends): answers how the edge closed it. */
function sendHostile(url: string, hostile: Hostile): Promise<Closing> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url);
    ws.on("error", () => {});
    const timer = setTimeout(() => {
      ws.terminate();
      resolve({ code: -1, reason: "the edge did not close the connection within 10 s" });
    }, 10_000);
    ws.once("close", (code, reason) => {
      clearTimeout(timer);
      resolve({ code, reason: reason.toString() });
    });
    const send = () => ws.send(hostile.data);
    if (hostile.when === "early") ws.once("open", send);
    else ws.once("message", send);
  });
}

/** Opens a raw socket and answers how it was closed, and how many messages came before. */
function refusal(url: string, onOpen?: (ws: WebSocket) => void): Promise<Closing & { messages: number }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url);
    let messages = 0;
    ws.on("error", () => {});
    ws.on("message", () => (messages += 1));
    if (onOpen) ws.once("open", () => onOpen(ws));
    const timer = setTimeout(() => {
      ws.terminate();
      resolve({ code: -1, reason: "not closed within 10 s", messages });
    }, 10_000);
    ws.once("close", (code, reason) => {
      clearTimeout(timer);
      resolve({ code, reason: reason.toString(), messages });
    });
  });
}

const pageText = (edge: RunningEdge, slug: string) => edge.replica.pages.get(slug)?.doc.getText("body").toString();

describe.each(clusterSetups)("bad input at an edge on $name", ({ options }) => {
  let cluster: Cluster;
  let pop: string;
  let edge: RunningEdge;
  let peer: RunningEdge;
  /** Tokens by person; each registration costs a scrypt hash, so the file makes few. */
  const tokens = { sam: "", gilly: "", mallory: "", aemon: "", ned: "" };

  beforeAll(async () => {
    cluster = await startCluster({ ...options, env: { EDGE_MAX_MESSAGE_BYTES: String(MAX_MESSAGE_BYTES) } });
    pop = cluster.pops[0]!;
    [edge, peer] = cluster.edgesOf(pop) as [RunningEdge, RunningEdge];
    // The first account of a wiki is its admin: register it alone, before the editors.
    tokens.ned = await cluster.token("Ned", "admin");
    [tokens.sam, tokens.gilly, tokens.mallory, tokens.aemon] = await Promise.all([
      cluster.token("Sam"),
      cluster.token("Gilly"),
      cluster.token("Mallory"),
      cluster.token("Maester_Aemon", "reader"),
    ]);
    for (const [token, role] of [[tokens.sam, "editor"], [tokens.mallory, "editor"], [tokens.aemon, "reader"], [tokens.ned, "admin"]]) {
      expect(decodeJwt(token!).role).toBe(role);
    }
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  describe("a storm of 1,000 random, truncated and oversized messages on one page", () => {
    const seed = Number(process.env.BAD_INPUT_SEED ?? randomBytes(4).readUInt32BE(0));
    const slug = slugOf("Storm");
    const markers = { good: [] as string[], other: [] as string[] };
    let messages: Hostile[];
    let closings: Closing[];
    let acks: PromiseSettledResult<Ack>[];
    let good: ProtocolEditor;
    let other: ProtocolEditor;

    beforeAll(async () => {
      messages = hostileMessages(seed);
      // The well-behaved editors: one on the edge under attack, one on its peer.
      good = cluster.editor(edge, slug, tokens.sam);
      other = cluster.editor(peer, slug, tokens.gilly);
      await Promise.all([good.synced, other.synced]);
      const url = `${edge.url}/${slug}?token=${tokens.mallory}`;
      closings = [];
      const pending: Promise<Ack>[] = [];
      for (let start = 0, wave = 0; start < messages.length; start += WAVE, wave++) {
        const goodMarker = `[g${wave}]`;
        const otherMarker = `[o${wave}]`;
        markers.good.push(goodMarker);
        markers.other.push(otherMarker);
        const edits = [good.insert(good.text.length, goodMarker), other.insert(other.text.length, otherMarker)];
        pending.push(...edits);
        closings.push(...(await Promise.all(messages.slice(start, start + WAVE).map((hostile) => sendHostile(url, hostile)))));
        await Promise.allSettled(edits);
      }
      acks = await Promise.allSettled(pending);
    });
    afterAll(async () => {
      await Promise.all([good?.close(), other?.close()]);
    });

    it("closes each of the 1,000 hostile connections with 4400 or 4413 and a reason", () => {
      expect(closings).toHaveLength(HOSTILE_MESSAGES);
      const wrong = closings.flatMap((closing, i) => {
        const hostile = messages[i]!;
        return closing.code === hostile.expected && closing.reason.length > 0
          ? []
          : [`${hostile.kind} (${hostile.when}): closed ${closing.code} "${closing.reason}", wanted ${hostile.expected} and a reason`];
      });
      expect(wrong.slice(0, 10), `seed ${seed}: ${wrong.length} of ${HOSTILE_MESSAGES} connections closed wrongly`).toEqual([]);
    });

    it("keeps no hostile connection once they are closed", async () => {
      // Only the well-behaved editor is left on the edge under attack.
      const count = await eventually(() => edge.replica.connectionCount, (n) => n === 1);
      expect(count, `seed ${seed}`).toBe(1);
    });

    it("acknowledges every edit of an editor connected through the storm, which also receives its co-editor's edits", async () => {
      expect(acks.filter((ack) => ack.status === "rejected"), `seed ${seed}`).toEqual([]);
      expect(acks.every((ack) => ack.status === "fulfilled" && ack.value.durability === "edge")).toBe(true);
      expect(good.isOpen && other.isOpen).toBe(true);
      const seen = await eventually(() => good.text.toString(), (text) => markers.other.every((marker) => text.includes(marker)));
      for (const marker of markers.other) expect(seen, `seed ${seed}`).toContain(marker);
    });

    it("leaves the page holding exactly the well-behaved edits, at every replica of the PoP and at the origin", async () => {
      const expected = [...markers.good, ...markers.other].sort();
      const exactly = (text: string | undefined) =>
        text !== undefined && text.replace(/\[[go]\d+\]/g, "") === "" && JSON.stringify(text.match(/\[[go]\d+\]/g)?.sort()) === JSON.stringify(expected);
      const texts = async () => [
        pageText(edge, slug),
        pageText(peer, slug),
        (await originText(cluster.origin, slug)),
      ];
      const settled = await eventually(texts, (all) => all.every(exactly));
      expect(settled.map(exactly), `seed ${seed}: ${JSON.stringify(settled)}`).toEqual([true, true, true]);
      // Nothing of Mallory's is in the document, not even structs waiting for a missing dependency.
      const doc = edge.replica.pages.get(slug)!.doc;
      expect([...Y.decodeStateVector(Y.encodeStateVector(doc)).keys()].sort()).toEqual([good.doc.clientID, other.doc.clientID].sort());
      expect(doc.store.pendingStructs).toBeNull();
      expect(doc.store.pendingDs).toBeNull();
    });

    it("serves a new editor after the storm", async () => {
      const late = cluster.editor(edge, slug, tokens.ned);
      await late.synced;
      for (const marker of [...markers.good, ...markers.other]) expect(late.text.toString()).toContain(marker);
      const ack = await late.insert(0, "[late]");
      expect(ack.durability).toBe("edge");
      await eventually(() => good.text.toString(), (text) => text.includes("[late]"));
      expect(good.text.toString()).toContain("[late]");
      await late.close();
    });
  });

  // Both fail while edge/server.ts leaves ws's own frame limit (maxPayload,
  // twice EDGE_MAX_MESSAGE_BYTES) to answer larger frames, and attaches no
  // 'error' listener to a socket before its token is verified.
  describe("frames past ws's own limit of twice EDGE_MAX_MESSAGE_BYTES", () => {
    it("a message past twice the limit is closed by the WebSocket layer with 1009 Message Too Big, unread", async () => {
      const huge = new Uint8Array(4 * MAX_MESSAGE_BYTES);
      huge.set([MessageType.sync, SyncStep.update]);
      const closing = await refusal(`${edge.url}/${slugOf("Huge")}?token=${tokens.mallory}`, (ws) => ws.once("message", () => ws.send(huge)));
      expect(closing.code).toBe(1009);
    });

    it("a message past twice the limit from a connection whose token is refused raises no unhandled error (one kills an edge process)", async () => {
      const unhandled: string[] = [];
      const record = (error: Error) => unhandled.push(`${error.name}: ${error.message}`);
      process.on("uncaughtException", record);
      try {
        const closings = await Promise.all(
          Array.from({ length: 5 }, () => refusal(`${edge.url}/${slugOf("Huge")}`, (ws) => ws.send(new Uint8Array(4 * MAX_MESSAGE_BYTES)))),
        );
        expect(closings.map((closing) => closing.code)).toEqual(Array(5).fill(CloseCode.unauthorized));
        await sleep(200);
      } finally {
        process.off("uncaughtException", record);
      }
      expect(unhandled).toEqual([]);
    });
  });

  it("a connection that hangs up while its token is checked is not counted by the edge afterwards", async () => {
    const slug = slugOf("Hang_up");
    const before = edge.replica.connectionCount;
    const { port } = new URL(edge.url);
    // An upgrade request, and the client gone before its token is checked:
    // right after the request, on the edge's 101, or half-closed with the
    // request (when the window falls differs with the load, so all three).
    const hangUps = ["after the request", "on the 101", "with the request"] as const;
    await Promise.all(
      Array.from(
        { length: 99 },
        (_, i) =>
          new Promise<void>((resolve) => {
            const how = hangUps[i % hangUps.length]!;
            const request =
              `GET /${slug}?token=${tokens.mallory} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
              `Sec-WebSocket-Key: ${randomBytes(16).toString("base64")}\r\nSec-WebSocket-Version: 13\r\n\r\n`;
            const socket = net.connect(Number(port), "127.0.0.1", () => {
              if (how === "after the request") socket.write(request, () => socket.destroy());
              else if (how === "on the 101") socket.write(request);
              else socket.end(request);
            });
            socket.once("data", () => socket.destroy());
            // A half-closed socket the edge leaves open is the client's to drop.
            const gone = setTimeout(() => socket.destroy(), 500);
            socket.on("error", () => {});
            socket.on("close", () => {
              clearTimeout(gone);
              resolve();
            });
          }),
      ),
    );
    const count = await eventually(() => edge.replica.connectionCount, (n) => n === before, 3000);
    expect(count).toBe(before);
    expect(edge.replica.pages.get(slug)?.clients.size ?? 0).toBe(0);
  });

  describe("readers", () => {
    it("a reader's write is refused with permission denied and applied nowhere", async () => {
      const slug = slugOf("Reader_write");
      const reader = cluster.editor(edge, slug, tokens.aemon);
      const writer = cluster.editor(peer, slug, tokens.sam);
      await Promise.all([reader.synced, writer.synced]);
      reader.insert(0, "[reader]").catch(() => {});
      const denied = await eventually(() => reader.denied, (reasons) => reasons.length > 0);
      expect(denied).toEqual(["readers cannot edit: ask an admin for editor rights"]);
      // A later accepted edit reaches the origin through the same edge: the reader's is not with it.
      await writer.insert(0, "[writer]");
      const texts = async () => [pageText(edge, slug), pageText(peer, slug), await originText(cluster.origin, slug)];
      const settled = await eventually(texts, (all) => all.every((text) => text === "[writer]"));
      expect(settled).toEqual(["[writer]", "[writer]", "[writer]"]);
      expect(reader.isOpen).toBe(true);
      await Promise.all([reader.close(), writer.close()]);
    });

    it("a reader whose write was refused still receives others' edits live", async () => {
      const slug = slugOf("Reader_follows");
      const reader = cluster.editor(edge, slug, tokens.aemon);
      const writer = cluster.editor(peer, slug, tokens.sam);
      await Promise.all([reader.synced, writer.synced]);
      reader.insert(0, "[reader]").catch(() => {});
      await eventually(() => reader.denied.length, (n) => n > 0);
      for (let i = 0; i < 5; i++) await writer.insert(writer.text.length, `[live${i}]`);
      const text = await eventually(() => reader.text.toString(), (value) => value.includes("[live4]"));
      for (let i = 0; i < 5; i++) expect(text).toContain(`[live${i}]`);
      await Promise.all([reader.close(), writer.close()]);
    });
  });

  describe("protected pages", () => {
    /**
     * A page that exists at the origin (created through the other PoP's
     * flush) and is protected there, and that no replica of `pop` holds:
     * its edges load the protection with the page.
     */
    async function protectedPage(name: string): Promise<string> {
      const slug = slugOf(name);
      const seedEdge = cluster.edgesOf(cluster.pops[1]!)[0]!;
      const seeder = cluster.editor(seedEdge, slug, tokens.gilly);
      await seeder.synced;
      await seeder.insert(0, "[seed]");
      await seeder.close();
      await seedEdge.replica.flusher.flush("all");
      expect(await originText(cluster.origin, slug)).toBe("[seed]");
      await cluster.origin.db.prisma.page.update({ where: { slug }, data: { protection: "admin" } });
      expect(cluster.edgesOf(pop).map((replica) => replica.replica.pages.get(slug))).toEqual([undefined, undefined]);
      return slug;
    }

    it("an editor's write to a protected page is refused with permission denied and applied nowhere", async () => {
      const slug = await protectedPage("Protected_editor");
      const editor = cluster.editor(edge, slug, tokens.sam);
      const admin = cluster.editor(peer, slug, tokens.ned);
      await Promise.all([editor.synced, admin.synced]);
      editor.insert(0, "[editor]").catch(() => {});
      const denied = await eventually(() => editor.denied, (reasons) => reasons.length > 0);
      expect(denied).toEqual(["this page is protected: only admins can edit it"]);
      await admin.insert(0, "[admin]");
      const texts = async () => [pageText(edge, slug), pageText(peer, slug), await originText(cluster.origin, slug)];
      const settled = await eventually(texts, (all) => all.every((text) => text === "[admin][seed]"));
      expect(settled).toEqual(["[admin][seed]", "[admin][seed]", "[admin][seed]"]);
      await Promise.all([editor.close(), admin.close()]);
    });

    it("an admin's write to a protected page is acknowledged, fanned out and flushed to the origin", async () => {
      const slug = await protectedPage("Protected_admin");
      const admin = cluster.editor(edge, slug, tokens.ned);
      const follower = cluster.editor(peer, slug, tokens.sam);
      await Promise.all([admin.synced, follower.synced]);
      const ack = await admin.insert(0, "[admin]");
      expect(ack.durability).toBe("edge");
      expect(admin.denied).toEqual([]);
      const texts = async () => [follower.text.toString(), await originText(cluster.origin, slug)];
      const settled = await eventually(texts, (all) => all.every((text) => text === "[admin][seed]"));
      expect(settled).toEqual(["[admin][seed]", "[admin][seed]"]);
      await Promise.all([admin.close(), follower.close()]);
    });
  });

  describe("connections the edge refuses before the page", () => {
    /** The claims of a real edge token, re-signed as the case needs. */
    function claimsOf(token: string) {
      const claims = decodeJwt(token);
      return { name: claims.name, role: claims.role, created: claims.created, sub: claims.sub! };
    }

    const cases: { name: string; code: number; reason: RegExp; url: () => Promise<string> }[] = [
      {
        name: "an expired token",
        code: CloseCode.unauthorized,
        reason: /expired/,
        async url() {
          const { sub, ...claims } = claimsOf(tokens.sam);
          const now = Math.floor(Date.now() / 1000);
          const token = await new SignJWT(claims)
            .setProtectedHeader({ alg: TOKEN_ALGORITHM, kid: cluster.origin.keys.kid, typ: "JWT" })
            .setSubject(sub)
            .setIssuer(TOKEN_ISSUER)
            .setAudience(EDGE_AUDIENCE)
            .setIssuedAt(now - 7200)
            .setExpirationTime(now - 3600)
            .sign(cluster.origin.keys.privateKey);
          return `${edge.url}/${slugOf("Expired")}?token=${token}`;
        },
      },
      {
        name: "a token signed with another Ed25519 key under the origin's key id",
        code: CloseCode.unauthorized,
        reason: /forged/,
        async url() {
          const { sub, ...claims } = claimsOf(tokens.sam);
          const { privateKey } = await generateKeyPair("EdDSA", { crv: "Ed25519" });
          const token = await new SignJWT({ ...claims, role: "admin" })
            .setProtectedHeader({ alg: TOKEN_ALGORITHM, kid: cluster.origin.keys.kid, typ: "JWT" })
            .setSubject(sub)
            .setIssuer(TOKEN_ISSUER)
            .setAudience(EDGE_AUDIENCE)
            .setIssuedAt()
            .setExpirationTime("1h")
            .sign(privateKey);
          return `${edge.url}/${slugOf("Forged")}?token=${token}`;
        },
      },
      {
        name: "a missing token",
        code: CloseCode.unauthorized,
        reason: /no token/,
        url: async () => `${edge.url}/${slugOf("No_token")}`,
      },
      {
        name: "a slug that is not a page name",
        code: CloseCode.badPage,
        reason: /slug/,
        url: async () => `${edge.url}/not_a_capitalised_slug?token=${tokens.sam}`,
      },
    ];

    it.each(cases)("$name closes the connection with its code and a reason, before the client learns anything of the page", async ({ code, reason, url }) => {
      const closing = await refusal(await url(), (ws) => ws.send(encodeMessage({ type: "sync-step-1", stateVector: new Uint8Array([0]) })));
      expect(closing.code).toBe(code);
      expect(closing.reason).toMatch(reason);
      expect(closing.messages).toBe(0);
    });
  });
});
