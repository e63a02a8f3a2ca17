import { type Broker, BrokerError, type BrokerMessage } from "./broker";
import { runHandler } from "./handlers";
import { MemoryBroker, type MemoryNetwork, type MemorySubscription } from "./memory-broker";
import { MemoryLogStore } from "./memory-log";
import { checkLogName, checkPattern, patternsOverlap, subjectMatches } from "./subject-patterns";

/**
 * An in-process broker: the embedded default (2 PoPs x 2 replicas in one
 * process) and the unit tests. Several connections share one bus, as several
 * replicas share one NATS server. It behaves like the network where callers
 * could tell the difference: delivery is asynchronous (never inside
 * `publish`), in publish order per subscriber, and payloads are copied.
 *
 * Its faults are real parts of the bus, not mocks, so a test of anti-entropy
 * loses messages the way a replica would.
 */
export interface MemoryBus {
  connect(name?: string): Broker;
  /** Silently drops the next `count` messages published (publish or request) on subjects matching `subjectPattern`. */
  dropNext(subjectPattern: string, count?: number): DropRule;
  /**
   * A broker outage for one connection: until `reconnect`, nothing it
   * publishes and nothing sent to it arrives, its log follows pause, and its
   * log calls fail. (A NATS client would buffer its own publications and
   * send them after the reconnect; losing them is the worst case, the one
   * anti-entropy must repair.)
   */
  disconnect(broker: Broker): void;
  /** Ends the outage: paused log follows catch up and the onReconnect listeners run. */
  reconnect(broker: Broker): void;
}

export interface DropRule {
  readonly subjectPattern: string;
  /** How many messages it dropped so far: lets a test prove the loss happened. */
  dropped(): number;
}

export function createMemoryBus(): MemoryBus {
  return new Bus();
}

class CountedDrop implements DropRule {
  private count = 0;

  constructor(
    readonly subjectPattern: string,
    private readonly limit: number,
  ) {}

  dropped(): number {
    return this.count;
  }

  /** Spends one drop on `subject` when this rule still wants it. */
  take(subject: string): boolean {
    if (this.count >= this.limit || !subjectMatches(this.subjectPattern, subject)) return false;
    this.count += 1;
    return true;
  }
}

class Bus implements MemoryBus, MemoryNetwork {
  private readonly subscriptions = new Set<MemorySubscription>();
  private readonly brokers = new Set<MemoryBroker>();
  private readonly logs = new Map<string, MemoryLogStore>();
  private readonly dropRules: CountedDrop[] = [];
  private queue: (() => void)[] = [];
  private connections = 0;

  connect(name?: string): Broker {
    this.connections += 1;
    const broker = new MemoryBroker(name ?? `memory-${this.connections}`, this.connections, this);
    this.brokers.add(broker);
    return broker;
  }

  dropNext(subjectPattern: string, count = 1): DropRule {
    checkPattern(subjectPattern);
    if (!Number.isInteger(count) || count < 1) throw new BrokerError(`memory bus: dropNext count must be a positive integer, got ${count}`);
    const rule = new CountedDrop(subjectPattern, count);
    this.dropRules.push(rule);
    return rule;
  }

  disconnect(broker: Broker): void {
    this.known(broker, "disconnect").connected = false;
  }

  reconnect(broker: Broker): void {
    const memoryBroker = this.known(broker, "reconnect");
    if (memoryBroker.connected) return;
    memoryBroker.connected = true;
    for (const log of this.logs.values()) log.wake();
    memoryBroker.reconnected();
  }

  route(from: MemoryBroker, message: BrokerMessage, faults: boolean): void {
    if (!from.connected) return;
    if (faults && this.dropRules.some((rule) => rule.take(message.subject))) return;
    for (const subscription of this.subscriptions) {
      if (!subscription.broker.connected || !subjectMatches(subscription.pattern, message.subject)) continue;
      this.schedule(() => {
        // Checked again at delivery: an unsubscribe or an outage in between wins, as on a socket.
        if (!subscription.active || !subscription.broker.connected) return;
        runHandler(message.subject, subscription.onMessage, { ...message, data: message.data.slice() });
      });
    }
  }

  hasInterest(subject: string): boolean {
    for (const subscription of this.subscriptions) {
      if (subscription.broker.connected && subjectMatches(subscription.pattern, subject)) return true;
    }
    return false;
  }

  add(subscription: MemorySubscription): void {
    this.subscriptions.add(subscription);
  }

  remove(subscription: MemorySubscription): void {
    this.subscriptions.delete(subscription);
  }

  /**
   * One FIFO for every delivery of the bus: per-subscriber publish order
   * follows. Each round runs only what was queued before it, so handlers that
   * publish back and forth cannot starve timers.
   */
  schedule(task: () => void): void {
    this.queue.push(task);
    if (this.queue.length === 1) setImmediate(() => this.runQueue());
  }

  openLog(name: string, subjects: string): MemoryLogStore {
    checkLogName(name);
    checkPattern(subjects);
    const existing = this.logs.get(name);
    if (existing !== undefined) {
      if (existing.subjects !== subjects) {
        throw new BrokerError(`durable log ${name}: exists with subjects "${existing.subjects}", not "${subjects}"; use another name or the same subjects`);
      }
      return existing;
    }
    for (const other of this.logs.values()) {
      if (patternsOverlap(other.subjects, subjects)) {
        throw new BrokerError(`durable log ${name}: subjects "${subjects}" overlap those of log ${other.name} ("${other.subjects}"); a subject may feed one log only`);
      }
    }
    const log = new MemoryLogStore(name, subjects, (task) => this.schedule(task));
    this.logs.set(name, log);
    return log;
  }

  forget(broker: MemoryBroker): void {
    this.brokers.delete(broker);
  }

  private runQueue(): void {
    const round = this.queue;
    this.queue = [];
    // Tasks queued meanwhile go to the fresh queue, whose first push scheduled the next round.
    for (const task of round) task();
  }

  private known(broker: Broker, what: string): MemoryBroker {
    if (!(broker instanceof MemoryBroker) || !this.brokers.has(broker)) {
      throw new BrokerError(`memory bus: cannot ${what} a broker that is closed or was not connected through this bus`);
    }
    return broker;
  }
}
