import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  type Broker,
  BrokerClosedError,
  BrokerError,
  BrokerTimeoutError,
  InvalidSubjectError,
  type LogEntry,
  NoRespondersError,
} from "../../broker/broker";

/**
 * What every Broker must do, run against each implementation with the same
 * test bodies (memory.test.ts, nats.test.ts), in the manner of y-redis's
 * storage tests.
 */
export interface BrokerTestBed {
  /** Unique to this bed: every subject and log name a test uses starts with it, so tests own their data. */
  namespace: string;
  /** One more connection to the same bus or server (as one more replica). */
  connect(): Promise<Broker>;
  /** Closes the brokers still open and deletes what the test created. */
  cleanup(): Promise<void>;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const bytes = (text: string) => encoder.encode(text);
const text = (data: Uint8Array) => decoder.decode(data);

/** Polls until `check` holds; async brokers give no better signal. */
async function eventually(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`still waiting after ${timeoutMs} ms for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** The messages a subscription receives, as "subject payload" lines. */
function collect(broker: Broker, pattern: string): string[] {
  const received: string[] = [];
  broker.subscribe(pattern, (message) => received.push(`${message.subject} ${text(message.data)}`));
  return received;
}

function follower(): { entries: LogEntry[]; onEntry: (entry: LogEntry) => void; lines: () => string[] } {
  const entries: LogEntry[] = [];
  return {
    entries,
    onEntry: (entry) => entries.push(entry),
    lines: () => entries.map((entry) => `${entry.sequence} ${text(entry.data)}`),
  };
}

type Connections<N extends 1 | 2 | 3> = N extends 1 ? [Broker] : N extends 2 ? [Broker, Broker] : [Broker, Broker, Broker];

export function brokerContract(implementation: string, makeTestBed: () => BrokerTestBed): void {
  describe(`Broker contract: ${implementation}`, () => {
    let bed: BrokerTestBed;
    /** A subject under this test's namespace. */
    const at = (...tokens: string[]) => [bed.namespace, ...tokens].join(".");
    /** A log name under this test's namespace. */
    const logName = (label: string) => `${bed.namespace}_${label}`;
    /** `count` more connections (replicas) on the same bus or server. */
    const connectMany = async <N extends 1 | 2 | 3>(count: N): Promise<Connections<N>> =>
      (await Promise.all(Array.from({ length: count }, () => bed.connect()))) as Connections<N>;

    beforeEach(() => {
      bed = makeTestBed();
    });
    afterEach(async () => {
      await bed.cleanup();
    });

    describe("publish and subscribe", () => {
      it("a subscription receives the subjects its wildcards match, and no others", async () => {
        const [publisher, subscriber] = await connectMany(2);
        const oneToken = collect(subscriber, at("page", "*"));
        const rest = collect(subscriber, at("page", ">"));
        const middle = collect(subscriber, at("*", "x", "update"));
        const exact = collect(subscriber, at("page", "x"));
        const everything = collect(subscriber, at(">"));
        await subscriber.flush();

        for (const tokens of [["page"], ["page", "x"], ["page", "x", "update"], ["pages", "x"], ["other", "x", "update"], ["done"]]) {
          publisher.publish(at(...tokens), bytes(tokens.join("/")));
        }
        // One connection gets one publisher's messages in order: once the
        // last one arrived, every subscription of it has had its share.
        await eventually("the last message", () => everything.includes(`${at("done")} done`));

        expect(oneToken).toEqual([`${at("page", "x")} page/x`]);
        expect(rest).toEqual([`${at("page", "x")} page/x`, `${at("page", "x", "update")} page/x/update`]);
        expect(middle).toEqual([`${at("page", "x", "update")} page/x/update`, `${at("other", "x", "update")} other/x/update`]);
        expect(exact).toEqual([`${at("page", "x")} page/x`]);
        expect(everything).toHaveLength(6);
      });

      it("each subscriber receives one publisher's messages in publish order", async () => {
        const [publisher, first, second] = await connectMany(3);
        const toFirst = collect(first, at("order"));
        const toSecond = collect(second, at("order"));
        await Promise.all([first.flush(), second.flush()]);

        const sent = Array.from({ length: 300 }, (_, index) => `${at("order")} ${index}`);
        for (let index = 0; index < sent.length; index++) publisher.publish(at("order"), bytes(String(index)));
        await eventually("300 messages on both", () => toFirst.length === 300 && toSecond.length === 300);

        expect(toFirst).toEqual(sent);
        expect(toSecond).toEqual(sent);
      });

      it("a connection hears its own publications", async () => {
        const [broker] = await connectMany(1);
        const received = collect(broker, at("echo"));
        broker.publish(at("echo"), bytes("mine"));
        await eventually("its own message", () => received.length === 1);
        expect(received).toEqual([`${at("echo")} mine`]);
      });

      it("unsubscribing stops delivery to that subscription only", async () => {
        const [publisher, subscriber] = await connectMany(2);
        const stopped: string[] = [];
        const unsubscribe = subscriber.subscribe(at("news"), (message) => stopped.push(text(message.data)));
        const kept = collect(subscriber, at("news"));
        await subscriber.flush();

        publisher.publish(at("news"), bytes("before"));
        await eventually("the first message", () => stopped.length === 1 && kept.length === 1);
        unsubscribe();
        await subscriber.flush();
        publisher.publish(at("news"), bytes("after"));
        await eventually("the second message on the kept subscription", () => kept.length === 2);

        expect(stopped).toEqual(["before"]);
      });

      it("a payload arrives as sent even if the publisher reuses its buffer", async () => {
        const [publisher, subscriber] = await connectMany(2);
        const received = collect(subscriber, at("buffer"));
        await subscriber.flush();
        const buffer = bytes("first");
        publisher.publish(at("buffer"), buffer);
        buffer.set(bytes("XXXXX"));
        await eventually("the message", () => received.length === 1);
        expect(received).toEqual([`${at("buffer")} first`]);
      });

      it("messages published before flush reach subscribers even when the publisher closes right after", async () => {
        const [publisher, subscriber] = await connectMany(2);
        const received = collect(subscriber, at("last-words"));
        await subscriber.flush();

        for (let index = 0; index < 50; index++) publisher.publish(at("last-words"), bytes(String(index)));
        await publisher.flush();
        await publisher.close();

        await eventually("50 messages", () => received.length === 50);
      });

      it("malformed subjects are refused with InvalidSubjectError naming them", async () => {
        const [broker] = await connectMany(1);
        expect(() => broker.publish(at("a", "", "b"), bytes("x"))).toThrow(InvalidSubjectError);
        expect(() => broker.publish(at("page", "*"), bytes("x"))).toThrow(/wildcards/);
        expect(() => broker.publish(at("page", ">"), bytes("x"), {})).toThrow(InvalidSubjectError);
        expect(() => broker.subscribe(at(">", "x"), () => {})).toThrow(/">" may only be the last token/);
        expect(() => broker.subscribe("", () => {})).toThrow(InvalidSubjectError);
        expect(() => broker.publish(at("with space"), bytes("x"))).toThrow(`invalid subject "${at("with space")}"`);
      });
    });

    describe("request and reply", () => {
      it("a request resolves with a responder's answer", async () => {
        const [requester, responder] = await connectMany(2);
        responder.subscribe(at("echo"), (message) => {
          if (message.reply !== undefined) responder.publish(message.reply, bytes(`re: ${text(message.data)}`));
        });
        await responder.flush();

        const answer = await requester.request(at("echo"), bytes("hello"), 5000);
        expect(text(answer)).toBe("re: hello");
      });

      it("a message published without a reply subject has none", async () => {
        const [publisher, subscriber] = await connectMany(2);
        const replies: (string | undefined)[] = [];
        subscriber.subscribe(at("plain"), (message) => replies.push(message.reply));
        await subscriber.flush();
        publisher.publish(at("plain"), bytes("x"));
        await eventually("the message", () => replies.length === 1);
        expect(replies).toEqual([undefined]);
      });

      it("a request nobody subscribes to rejects at once with NoRespondersError", async () => {
        const [requester] = await connectMany(1);
        const started = Date.now();
        const failure = await requester.request(at("nobody"), bytes("anyone?"), 10_000).catch((error: unknown) => error);
        expect(failure).toBeInstanceOf(NoRespondersError);
        expect((failure as NoRespondersError).subject).toBe(at("nobody"));
        expect(Date.now() - started).toBeLessThan(2000);
      });

      it("a request nobody answers rejects with BrokerTimeoutError after timeoutMs", async () => {
        const [requester, silent] = await connectMany(2);
        silent.subscribe(at("silent"), () => {});
        await silent.flush();

        const started = Date.now();
        const failure = await requester.request(at("silent"), bytes("hello?"), 150).catch((error: unknown) => error);
        expect(failure).toBeInstanceOf(BrokerTimeoutError);
        expect(failure).toMatchObject({ subject: at("silent"), timeoutMs: 150 });
        expect(Date.now() - started).toBeGreaterThanOrEqual(140);
      });

      it("an inbox receives the answers of every responder", async () => {
        const [asker, first, second] = await connectMany(3);
        for (const [responder, name] of [
          [first, "first"],
          [second, "second"],
        ] as const) {
          responder.subscribe(at("roll-call"), (message) => {
            if (message.reply !== undefined) responder.publish(message.reply, bytes(name));
          });
        }
        const inbox = asker.newInbox();
        expect(asker.newInbox()).not.toBe(inbox);
        const answers: string[] = [];
        asker.subscribe(inbox, (message) => answers.push(text(message.data)));
        await Promise.all([asker.flush(), first.flush(), second.flush()]);

        asker.publish(at("roll-call"), bytes("who is there?"), { reply: inbox });
        await eventually("two answers", () => answers.length === 2);
        expect(answers.sort()).toEqual(["first", "second"]);
      });
    });

    describe("durable log", () => {
      it("appends get increasing sequences and lastSequence is the newest", async () => {
        const [broker] = await connectMany(1);
        const log = await broker.durableLog(logName("pop"), at("log", ">"));
        expect(await log.lastSequence()).toBe(0n);

        const sequences = [];
        for (const slug of ["a", "b", "a"]) sequences.push(await log.append(at("log", slug), bytes(slug)));

        expect(sequences[0]).toBeGreaterThan(0n);
        expect(sequences[1]).toBeGreaterThan(sequences[0] as bigint);
        expect(sequences[2]).toBeGreaterThan(sequences[1] as bigint);
        expect(await log.lastSequence()).toBe(sequences[2]);
      });

      it("follow delivers the entries from a sequence on, then new ones, until stopped", async () => {
        const [broker] = await connectMany(1);
        const log = await broker.durableLog(logName("pop"), at("log", ">"));
        const first = await log.append(at("log", "a"), bytes("one"));
        const second = await log.append(at("log", "b"), bytes("two"));
        await log.append(at("log", "a"), bytes("three"));

        const stopped = follower();
        const stop = await log.follow(second, stopped.onEntry);
        await eventually("the entries from the second on", () => stopped.entries.length === 2);
        const fourth = await log.append(at("log", "b"), bytes("four"));
        await eventually("the new entry", () => stopped.entries.length === 3);
        stop();
        await broker.flush();
        const fifth = await log.append(at("log", "a"), bytes("five"));

        // A second follower seeing the fifth entry is the cue that the first would have too.
        const witness = follower();
        const stopWitness = await log.follow(first, witness.onEntry);
        await eventually("the witness to see the fifth entry", () => witness.entries.at(-1)?.sequence === fifth);
        stopWitness();

        expect(stopped.lines()).toEqual([`${second} two`, `${second + 1n} three`, `${fourth} four`]);
        expect(stopped.entries.map((entry) => entry.subject)).toEqual([at("log", "b"), at("log", "a"), at("log", "b")]);
        expect(witness.lines()).toEqual([`${first} one`, `${second} two`, `${second + 1n} three`, `${fourth} four`, `${fifth} five`]);
      });

      it("follow from beyond the newest entry delivers only entries from that sequence on", async () => {
        const [broker] = await connectMany(1);
        const log = await broker.durableLog(logName("pop"), at("log", ">"));
        const newest = await log.append(at("log", "a"), bytes("old"));

        const later = follower();
        const stop = await log.follow(newest + 3n, later.onEntry);
        for (const label of ["1", "2", "3", "4"]) await log.append(at("log", "a"), bytes(label));
        await eventually("the entries from newest + 3 on", () => later.entries.length === 2);
        stop();

        expect(later.lines()).toEqual([`${newest + 3n} 3`, `${newest + 4n} 4`]);
      });

      it("readAll returns every entry in order, and nothing for an empty log", async () => {
        const [broker] = await connectMany(1);
        const log = await broker.durableLog(logName("pop"), at("log", ">"));
        expect(await log.readAll()).toEqual([]);

        const sequences = [];
        for (let index = 0; index < 5; index++) sequences.push(await log.append(at("log", index % 2 ? "odd" : "even"), bytes(String(index))));
        const entries = await log.readAll();

        expect(entries.map((entry) => entry.sequence)).toEqual(sequences);
        expect(entries.map((entry) => `${entry.subject} ${text(entry.data)}`)).toEqual([
          `${at("log", "even")} 0`,
          `${at("log", "odd")} 1`,
          `${at("log", "even")} 2`,
          `${at("log", "odd")} 3`,
          `${at("log", "even")} 4`,
        ]);
      });

      it("purge drops a subject's entries below a sequence and keeps every other entry", async () => {
        const [broker] = await connectMany(1);
        const log = await broker.durableLog(logName("pop"), at("log", ">"));
        for (const label of ["a1", "b1", "a2", "b2"]) await log.append(at("log", label.slice(0, 1)), bytes(label));
        const a3 = await log.append(at("log", "a"), bytes("a3"));

        await log.purge(at("log", "a"), a3);

        expect((await log.readAll()).map((entry) => text(entry.data))).toEqual(["b1", "b2", "a3"]);
        expect(await log.lastSequence()).toBe(a3);
      });

      it("purge below sequence 1 drops nothing, and purging never lowers lastSequence", async () => {
        const [broker] = await connectMany(1);
        const log = await broker.durableLog(logName("pop"), at("log", ">"));
        await log.append(at("log", "a"), bytes("a1"));
        const newest = await log.append(at("log", "a"), bytes("a2"));

        await log.purge(at("log", "a"), 0n);
        await log.purge(at("log", "a"), 1n);
        expect((await log.readAll()).map((entry) => text(entry.data))).toEqual(["a1", "a2"]);
        expect(await log.entryCount()).toBe(2);

        await log.purge(at("log", ">"), newest + 1n);
        expect(await log.readAll()).toEqual([]);
        expect(await log.entryCount()).toBe(0);
        expect(await log.lastSequence()).toBe(newest);
        expect(await log.append(at("log", "a"), bytes("a3"))).toBe(newest + 1n);
      });

      it("two connections share a log by name and see both's entries in one order", async () => {
        const [first, second] = await connectMany(2);
        const [firstLog, secondLog] = await Promise.all([
          first.durableLog(logName("pop"), at("log", ">")),
          second.durableLog(logName("pop"), at("log", ">")),
        ]);
        const followed = follower();
        const stop = await secondLog.follow(1n, followed.onEntry);

        await Promise.all(
          Array.from({ length: 10 }, (_, index) =>
            Promise.all([firstLog.append(at("log", "page"), bytes(`first ${index}`)), secondLog.append(at("log", "page"), bytes(`second ${index}`))]),
          ),
        );
        await eventually("20 followed entries", () => followed.entries.length === 20);
        stop();

        const seenByFirst = await firstLog.readAll();
        const seenBySecond = await secondLog.readAll();
        expect(seenByFirst).toEqual(seenBySecond);
        expect(seenByFirst).toEqual(followed.entries);
        expect(seenByFirst.map((entry) => text(entry.data)).sort()).toEqual(
          [...Array.from({ length: 10 }, (_, index) => `first ${index}`), ...Array.from({ length: 10 }, (_, index) => `second ${index}`)].sort(),
        );
        const sequences = seenByFirst.map((entry) => entry.sequence);
        expect(sequences).toEqual([...sequences].sort((left, right) => (left < right ? -1 : 1)));
        expect(new Set(sequences).size).toBe(20);
        expect(await secondLog.lastSequence()).toBe(sequences.at(-1));
      });

      it("an appended entry also reaches core subscribers of its subject", async () => {
        const [writer, listener] = await connectMany(2);
        const heard = collect(listener, at("log", ">"));
        await listener.flush();
        const log = await writer.durableLog(logName("pop"), at("log", ">"));
        await log.append(at("log", "page"), bytes("edit"));
        await eventually("the entry on the subject", () => heard.length === 1);
        expect(heard).toEqual([`${at("log", "page")} edit`]);
      });

      it("appending outside the log's subjects is refused, naming the subject", async () => {
        const [broker] = await connectMany(1);
        const log = await broker.durableLog(logName("pop"), at("log", ">"));
        await expect(log.append(at("elsewhere"), bytes("x"))).rejects.toThrow(`cannot append on "${at("elsewhere")}"`);
        expect(await log.lastSequence()).toBe(0n);
      });

      it("a log name already used with other subjects is refused", async () => {
        const [first, second] = await connectMany(2);
        await first.durableLog(logName("pop"), at("log", ">"));
        await expect(second.durableLog(logName("pop"), at("other", ">"))).rejects.toThrow(BrokerError);
        await expect(second.durableLog(logName("pop"), at("other", ">"))).rejects.toThrow(logName("pop"));
      });

      it("a log name that cannot be a stream name is refused", async () => {
        const [broker] = await connectMany(1);
        await expect(broker.durableLog(`${logName("pop")}.page`, at("log", ">"))).rejects.toThrow(/invalid name/);
      });

      it("a durable log outlives every connection", async () => {
        const [first, second] = await connectMany(2);
        const firstLog = await first.durableLog(logName("pop"), at("log", ">"));
        const secondLog = await second.durableLog(logName("pop"), at("log", ">"));
        await firstLog.append(at("log", "a"), bytes("from first"));
        const newest = await secondLog.append(at("log", "b"), bytes("from second"));
        await Promise.all([first.close(), second.close()]);

        const revived = await bed.connect();
        const log = await revived.durableLog(logName("pop"), at("log", ">"));
        expect((await log.readAll()).map((entry) => `${entry.subject} ${text(entry.data)}`)).toEqual([
          `${at("log", "a")} from first`,
          `${at("log", "b")} from second`,
        ]);
        expect(await log.lastSequence()).toBe(newest);
      });
    });

    describe("health and shutdown", () => {
      it("ping measures a round trip in milliseconds", async () => {
        const [broker] = await connectMany(1);
        const milliseconds = await broker.ping();
        expect(Number.isFinite(milliseconds)).toBe(true);
        expect(milliseconds).toBeGreaterThanOrEqual(0);
      });

      it("a closed broker refuses every call with BrokerClosedError", async () => {
        const [broker] = await connectMany(1);
        await broker.close();
        await broker.close();

        expect(() => broker.publish(at("x"), bytes("x"))).toThrow(BrokerClosedError);
        expect(() => broker.subscribe(at("x"), () => {})).toThrow(BrokerClosedError);
        expect(() => broker.newInbox()).toThrow(BrokerClosedError);
        expect(() => broker.onReconnect(() => {})).toThrow(BrokerClosedError);
        await expect(broker.request(at("x"), bytes("x"), 1000)).rejects.toThrow(BrokerClosedError);
        await expect(broker.flush()).rejects.toThrow(BrokerClosedError);
        await expect(broker.ping()).rejects.toThrow(BrokerClosedError);
        await expect(broker.durableLog(logName("pop"), at("log", ">"))).rejects.toThrow(BrokerClosedError);
      });

      it("closing a broker stops its subscriptions and rejects its pending requests", async () => {
        const [closing, other] = await connectMany(2);
        const heardAfterClose = collect(closing, at("news"));
        const witness = collect(other, at("news"));
        other.subscribe(at("silent"), () => {});
        await Promise.all([closing.flush(), other.flush()]);

        const pending = closing.request(at("silent"), bytes("hello?"), 10_000).catch((error: unknown) => error);
        await closing.close();
        expect(await pending).toBeInstanceOf(BrokerClosedError);

        other.publish(at("news"), bytes("after close"));
        await eventually("the witness to hear it", () => witness.length === 1);
        expect(heardAfterClose).toEqual([]);
      });

      it("closing a broker stops its log follows", async () => {
        const [closing, writer] = await connectMany(2);
        const followed = follower();
        await (await closing.durableLog(logName("pop"), at("log", ">"))).follow(1n, followed.onEntry);
        const log = await writer.durableLog(logName("pop"), at("log", ">"));
        await log.append(at("log", "a"), bytes("before"));
        await eventually("the first entry", () => followed.entries.length === 1);

        await closing.close();
        const last = await log.append(at("log", "a"), bytes("after"));
        const witness = follower();
        await log.follow(last, witness.onEntry);
        await eventually("the witness to see the entry", () => witness.entries.length === 1);
        expect(followed.lines()).toEqual([`${last - 1n} before`]);
      });
    });
  });
}
