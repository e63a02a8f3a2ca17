/**
 * What an edge replica needs from its broker, and no more: subject-based
 * publish/subscribe with request/reply (replica <-> replica fan-out,
 * anti-entropy, membership) and, for `pop` durability, a durable log.
 * Two implementations: memory.ts (in-process; the embedded default and unit
 * tests) and nats.ts (NATS core + JetStream). One contract suite
 * (tests/support/broker-contract.ts) runs against both.
 *
 * Subjects are NATS-style: tokens separated by ".", "*" matches one token,
 * ">" matches one or more trailing tokens. Both implementations refuse the
 * same malformed subjects (InvalidSubjectError), so a bug caught by the
 * memory broker in a unit test is the bug NATS would have caused.
 *
 * A connection hears its own publications (NATS "echo"): callers that must
 * not act on their own messages drop them by the sender id in the envelope.
 * A handler that throws is reported (console.error) and does not stop
 * delivery to other handlers: over NATS it would otherwise unwind into the
 * client's protocol parser.
 */
export type Unsubscribe = () => void;

export interface BrokerMessage {
  subject: string;
  data: Uint8Array;
  /** Set when the sender expects an answer: publish the answer to this subject. */
  reply: string | undefined;
}

export interface PublishOptions {
  /** Where answers should go, e.g. a subject from `Broker.newInbox()`. */
  reply?: string;
}

export interface Broker {
  /**
   * Fire and forget; delivery is at most once, asynchronous (never inside
   * this call) and in publish order for each subscriber. `data` is copied:
   * the caller may reuse its buffer as soon as this returns.
   */
  publish(subject: string, data: Uint8Array, options?: PublishOptions): void;
  subscribe(subject: string, onMessage: (message: BrokerMessage) => void): Unsubscribe;
  /**
   * Sends and waits for the first answer. Rejects with NoRespondersError at
   * once when nobody subscribes to `subject`, and with BrokerTimeoutError
   * after `timeoutMs`.
   */
  request(subject: string, data: Uint8Array, timeoutMs: number): Promise<Uint8Array>;
  /**
   * A subject unique to this connection, for answers from many peers:
   * subscribe to it, then publish with `{ reply: inbox }`.
   */
  newInbox(): string;
  /**
   * Resolves once everything published so far reached the broker (while the
   * connection is down, it waits for it to come back).
   */
  flush(): Promise<void>;
  /**
   * `listener` runs after the connection to the broker came back from an
   * outage (anti-entropy runs then: messages sent meanwhile are lost).
   */
  onReconnect(listener: () => void): Unsubscribe;
  /**
   * The durable log named `name` (a JetStream stream) capturing `subjects`
   * (one subject pattern), created when missing. Every connection asking for
   * the same name gets the same log. Refused when the name exists with other
   * subjects, or when `subjects` overlaps another log's.
   */
  durableLog(name: string, subjects: string): Promise<DurableLog>;
  /** Round trip to the broker itself, in milliseconds (a metric). */
  ping(): Promise<number>;
  /** Unsubscribes everything, stops follows, rejects pending requests; later calls throw BrokerClosedError. */
  close(): Promise<void>;
}

export interface LogEntry {
  sequence: bigint;
  subject: string;
  data: Uint8Array;
}

/**
 * An append-only log that outlives every replica of a PoP. `append` resolves
 * once the broker has the entry (a JetStream publish ack): only then may an
 * edge acknowledge a write at `pop` durability.
 *
 * An appended entry is also published on its subject, as a JetStream publish
 * is: core subscribers of that subject receive it too.
 */
export interface DurableLog {
  /** Refused when `subject` is outside the log's subjects. */
  append(subject: string, data: Uint8Array): Promise<bigint>;
  /**
   * Delivers every entry with a sequence >= `fromSequence`, in order, then
   * keeps delivering new ones until the returned function is called (or the
   * broker closes). Resolves once following started; a broker outage pauses
   * delivery, which catches up after the reconnect.
   */
  follow(fromSequence: bigint, onEntry: (entry: LogEntry) => void): Promise<Unsubscribe>;
  /** Every entry currently in the log, in order, up to the newest at call time (recovery). */
  readAll(): Promise<LogEntry[]>;
  /**
   * Drops the entries on `subject` (wildcards allowed) with a sequence <
   * `belowSequence` (committed at the origin). `belowSequence` <= 1n drops
   * nothing.
   */
  purge(subject: string, belowSequence: bigint): Promise<void>;
  /**
   * The sequence of the newest entry ever appended (0n when none was). A
   * purge does not lower it, so appends never reuse a sequence.
   */
  lastSequence(): Promise<bigint>;
  /**
   * How many entries the log holds now: at `pop` durability, the updates the
   * origin has not committed yet (the ops view's backlog). One stream-info
   * request on NATS, so callers poll it at most every few seconds.
   */
  entryCount(): Promise<number>;
}

export class BrokerError extends Error {
  override name = "BrokerError";
}

export class NoRespondersError extends BrokerError {
  override name = "NoRespondersError";
  constructor(readonly subject: string) {
    super(`no replica answers on ${subject}`);
  }
}

export class BrokerTimeoutError extends BrokerError {
  override name = "BrokerTimeoutError";
  constructor(
    readonly subject: string,
    readonly timeoutMs: number,
  ) {
    super(`no answer on ${subject} within ${timeoutMs} ms`);
  }
}

export class InvalidSubjectError extends BrokerError {
  override name = "InvalidSubjectError";
  constructor(
    readonly subject: string,
    reason: string,
  ) {
    super(`invalid subject "${subject}": ${reason}`);
  }
}

export class BrokerClosedError extends BrokerError {
  override name = "BrokerClosedError";
  constructor(what: string) {
    super(`${what}: the broker connection is closed`);
  }
}
