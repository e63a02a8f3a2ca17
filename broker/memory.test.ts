import { randomBytes } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { type Broker, BrokerError, BrokerTimeoutError, type LogEntry, NoRespondersError } from "./broker";
import { type BrokerTestBed, brokerContract } from "../tests/support/broker-contract";
import { createMemoryBus, type MemoryBus } from "./memory";

function memoryTestBed(): BrokerTestBed {
  const bus = createMemoryBus();
  const brokers: Broker[] = [];
  return {
    namespace: `wwtest_${randomBytes(6).toString("hex")}`,
    async connect() {
      const broker = bus.connect();
      brokers.push(broker);
      return broker;
    },
    async cleanup() {
      await Promise.all(brokers.map((broker) => broker.close()));
    },
  };
}

brokerContract("memory", memoryTestBed);

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (data: Uint8Array) => new TextDecoder().decode(data);

async function eventually(what: string, check: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`still waiting after ${timeoutMs} ms for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

function collect(broker: Broker, pattern: string): string[] {
  const received: string[] = [];
  broker.subscribe(pattern, (message) => received.push(`${message.subject} ${text(message.data)}`));
  return received;
}

describe("memory bus", () => {
  let bus: MemoryBus;
  let brokers: Broker[] = [];
  const connect = (name: string) => {
    const broker = bus.connect(name);
    brokers.push(broker);
    return broker;
  };
  const setUp = () => {
    bus = createMemoryBus();
    brokers = [];
  };
  afterEach(async () => {
    await Promise.all(brokers.map((broker) => broker.close()));
  });

  it("never delivers inside publish", async () => {
    setUp();
    const broker = connect("replica");
    const received = collect(broker, "pop.page");
    broker.publish("pop.page", bytes("x"));
    expect(received).toEqual([]);
    await broker.flush();
    expect(received).toEqual(["pop.page x"]);
  });

  it("a handler that throws does not stop delivery to the others", async () => {
    setUp();
    const broker = connect("replica");
    broker.subscribe("pop.page", () => {
      throw new Error("a buggy handler");
    });
    const received = collect(broker, "pop.page");
    const originalError = console.error;
    const reported: unknown[] = [];
    console.error = (...args: unknown[]) => reported.push(args);
    try {
      broker.publish("pop.page", bytes("x"));
      await broker.flush();
    } finally {
      console.error = originalError;
    }
    expect(received).toEqual(["pop.page x"]);
    expect(String(reported[0])).toContain('a handler for "pop.page" threw');
  });

  it("dropNext drops the next matching messages and no others", async () => {
    setUp();
    const [publisher, subscriber] = [connect("a"), connect("b")];
    const received = collect(subscriber, "pop.>");
    const rule = bus.dropNext("pop.page.*", 2);

    for (const subject of ["pop.page.1", "pop.members", "pop.page.2", "pop.page.3", "pop.page.4"]) publisher.publish(subject, bytes("x"));
    await publisher.flush();

    expect(received).toEqual(["pop.members x", "pop.page.3 x", "pop.page.4 x"]);
    expect(rule.dropped()).toBe(2);
  });

  it("a request lost by dropNext times out instead of reporting no responders", async () => {
    setUp();
    const [requester, responder] = [connect("a"), connect("b")];
    responder.subscribe("pop.sync", (message) => responder.publish(message.reply as string, bytes("answer")));
    const rule = bus.dropNext("pop.sync");

    await expect(requester.request("pop.sync", bytes("?"), 50)).rejects.toBeInstanceOf(BrokerTimeoutError);
    expect(rule.dropped()).toBe(1);
    expect(text(await requester.request("pop.sync", bytes("?"), 1000))).toBe("answer");
  });

  it("a disconnected replica neither sends nor receives until it reconnects, then runs its onReconnect listeners", async () => {
    setUp();
    const [cut, peer] = [connect("cut"), connect("peer")];
    const heardByCut = collect(cut, "pop.>");
    const heardByPeer = collect(peer, "pop.>");
    let reconnects = 0;
    cut.onReconnect(() => (reconnects += 1));

    bus.disconnect(cut);
    cut.publish("pop.from-cut", bytes("lost"));
    peer.publish("pop.from-peer", bytes("lost"));
    await peer.flush();
    expect(heardByCut).toEqual([]);
    expect(heardByPeer).toEqual(["pop.from-peer lost"]);
    expect(reconnects).toBe(0);

    bus.reconnect(cut);
    await eventually("the onReconnect listener", () => reconnects === 1);
    cut.publish("pop.from-cut", bytes("back"));
    await cut.flush();
    expect(heardByCut).toEqual(["pop.from-cut back"]);
    expect(heardByPeer).toEqual(["pop.from-peer lost", "pop.from-cut back"]);
  });

  it("a message already queued for a replica is lost if it disconnects before delivery", async () => {
    setUp();
    const [cut, peer] = [connect("cut"), connect("peer")];
    const heardByCut = collect(cut, "pop.page");
    peer.publish("pop.page", bytes("in flight"));
    bus.disconnect(cut);
    await peer.flush();
    bus.reconnect(cut);
    await cut.flush();
    expect(heardByCut).toEqual([]);
  });

  it("a request whose responders are all disconnected rejects with NoRespondersError", async () => {
    setUp();
    const [requester, responder] = [connect("a"), connect("b")];
    responder.subscribe("pop.sync", (message) => responder.publish(message.reply as string, bytes("answer")));
    bus.disconnect(responder);
    await expect(requester.request("pop.sync", bytes("?"), 1000)).rejects.toBeInstanceOf(NoRespondersError);
  });

  it("a request from a disconnected replica times out", async () => {
    setUp();
    const [requester, responder] = [connect("a"), connect("b")];
    responder.subscribe("pop.sync", (message) => responder.publish(message.reply as string, bytes("answer")));
    bus.disconnect(requester);
    await expect(requester.request("pop.sync", bytes("?"), 50)).rejects.toBeInstanceOf(BrokerTimeoutError);
  });

  it("flush waits for the outage to end", async () => {
    setUp();
    const broker = connect("cut");
    bus.disconnect(broker);
    let flushed = false;
    const flushing = broker.flush().then(() => (flushed = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(flushed).toBe(false);
    bus.reconnect(broker);
    await flushing;
    expect(flushed).toBe(true);
  });

  it("log calls fail during an outage, naming the replica", async () => {
    setUp();
    const broker = connect("cut");
    const log = await broker.durableLog("POP", "pop.log.>");
    bus.disconnect(broker);
    await expect(log.append("pop.log.page", bytes("x"))).rejects.toThrow(/append on pop\.log\.page from cut failed: disconnected/);
    await expect(log.readAll()).rejects.toThrow(BrokerError);
    bus.reconnect(broker);
    expect(await log.append("pop.log.page", bytes("x"))).toBe(1n);
  });

  it("a log follow pauses during an outage and catches up after it", async () => {
    setUp();
    const [cut, writer] = [connect("cut"), connect("writer")];
    const followed: LogEntry[] = [];
    await (await cut.durableLog("POP", "pop.log.>")).follow(1n, (entry) => followed.push(entry));
    const log = await writer.durableLog("POP", "pop.log.>");

    bus.disconnect(cut);
    await log.append("pop.log.page", bytes("one"));
    await log.append("pop.log.page", bytes("two"));
    await writer.flush();
    expect(followed).toEqual([]);

    bus.reconnect(cut);
    await eventually("the missed entries", () => followed.length === 2);
    expect(followed.map((entry) => `${entry.sequence} ${text(entry.data)}`)).toEqual(["1 one", "2 two"]);
  });

  it("logs are shared within a bus, not across buses", async () => {
    setUp();
    const log = await connect("a").durableLog("POP", "pop.log.>");
    await log.append("pop.log.page", bytes("x"));
    expect(await (await connect("b").durableLog("POP", "pop.log.>")).lastSequence()).toBe(1n);

    const other = createMemoryBus().connect("elsewhere");
    brokers.push(other);
    expect(await (await other.durableLog("POP", "pop.log.>")).lastSequence()).toBe(0n);
  });

  it("a log whose subjects overlap another log's is refused", async () => {
    setUp();
    const broker = connect("a");
    await broker.durableLog("POP_A", "pop.a.log.>");
    await expect(broker.durableLog("POP_ALL", "pop.*.log.page")).rejects.toThrow(/overlap those of log POP_A/);
    await expect(broker.durableLog("POP_B", "pop.b.log.>")).resolves.toBeDefined();
  });

  it("disconnecting a broker from another bus is refused", () => {
    setUp();
    const stranger = createMemoryBus().connect("stranger");
    brokers.push(stranger);
    expect(() => bus.disconnect(stranger)).toThrow(/not connected through this bus/);
  });
});
