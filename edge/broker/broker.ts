/**
 * What an edge replica needs from its broker, and no more: subject-based
 * publish/subscribe with request/reply (replica <-> replica fan-out,
 * anti-entropy, membership) and, for `pop` durability, a durable log.
 * Two implementations: memory.ts (in-process; the embedded default and unit
 * tests) and nats.ts (NATS core + JetStream). One contract suite
 * (broker.contract.ts) runs against both.
 *
 * Subjects are NATS-style: tokens separated by ".", "*" matches one token,
 * ">" matches one or more trailing tokens.
 */
export type Unsubscribe = () => void;

export interface BrokerMessage {
  subject: string;
  data: Uint8Array;
  /** Set when the sender expects an answer: pass it to `Broker.publish` (or use `respond`). */
  reply: string | undefined;
}

export interface Broker {
  /** Fire and forget; delivery is at most once. */
  publish(subject: string, data: Uint8Array): void;
  subscribe(subject: string, onMessage: (message: BrokerMessage) => void): Unsubscribe;
  /**
   * Sends and waits for the first answer. Rejects with NoRespondersError at
   * once when nobody subscribes to `subject`, and with BrokerTimeoutError
   * after `timeoutMs`.
   */
  request(subject: string, data: Uint8Array, timeoutMs: number): Promise<Uint8Array>;
  /** A subject unique to this connection, for answers from many peers. */
  newInbox(): string;
  /** Resolves once everything published so far reached the broker. */
  flush(): Promise<void>;
  /** Called with "reconnected" after the connection to the broker came back (anti-entropy runs then). */
  onReconnect(listener: () => void): Unsubscribe;
  /** The durable log named `name` (a JetStream stream), created when missing. */
  durableLog(name: string, subjects: string): Promise<DurableLog>;
  /** Round trip to the broker itself, in milliseconds (a metric). */
  ping(): Promise<number>;
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
 */
export interface DurableLog {
  append(subject: string, data: Uint8Array): Promise<bigint>;
  /**
   * Delivers every entry with a sequence >= `fromSequence`, in order, then
   * keeps delivering new ones until the returned function is called.
   */
  follow(fromSequence: bigint, onEntry: (entry: LogEntry) => void): Promise<Unsubscribe>;
  /** Every entry currently in the log, in order (recovery). */
  readAll(): Promise<LogEntry[]>;
  /** Drops the entries on `subject` with a sequence < `belowSequence` (committed at the origin). */
  purge(subject: string, belowSequence: bigint): Promise<void>;
  /** The sequence of the newest entry (0n when empty). */
  lastSequence(): Promise<bigint>;
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

export class BrokerClosedError extends BrokerError {
  override name = "BrokerClosedError";
  constructor(what: string) {
    super(`${what}: the broker connection is closed`);
  }
}
