import {
  type Broker,
  BrokerClosedError,
  BrokerError,
  type BrokerMessage,
  BrokerTimeoutError,
  type DurableLog,
  NoRespondersError,
  type PublishOptions,
  type Unsubscribe,
} from "./broker";
import { runHandler } from "./handlers";
import type { LogFollower, MemoryLogStore } from "./memory-log";
import { checkPattern, checkSubject } from "./subject-patterns";

export interface MemorySubscription {
  pattern: string;
  broker: MemoryBroker;
  onMessage: (message: BrokerMessage) => void;
  active: boolean;
}

/** What a memory connection needs from its bus: the "server" side. */
export interface MemoryNetwork {
  /** Delivers to every matching subscription of a connected broker; `faults` says whether dropNext applies. */
  route(from: MemoryBroker, message: BrokerMessage, faults: boolean): void;
  hasInterest(subject: string): boolean;
  add(subscription: MemorySubscription): void;
  remove(subscription: MemorySubscription): void;
  schedule(task: () => void): void;
  openLog(name: string, subjects: string): MemoryLogStore;
  forget(broker: MemoryBroker): void;
}

/** One replica's connection to a memory bus. */
export class MemoryBroker implements Broker {
  connected = true;
  private closed = false;
  private inboxes = 0;
  private readonly subscriptions = new Set<MemorySubscription>();
  private readonly reconnectListeners = new Set<() => void>();
  private readonly pendingRequests = new Set<(error: Error) => void>();
  private readonly waitingFlushes = new Set<{ resolve: () => void; reject: (error: Error) => void }>();
  private readonly follows = new Set<Unsubscribe>();

  constructor(
    readonly name: string,
    /** Unique within the bus, unlike `name`: inboxes are built from it. */
    private readonly connectionId: number,
    private readonly network: MemoryNetwork,
  ) {}

  publish(subject: string, data: Uint8Array, options: PublishOptions = {}): void {
    this.assertOpen(`publish on ${subject}`);
    checkSubject(subject);
    if (options.reply !== undefined) checkSubject(options.reply);
    // A copy: the caller may reuse its buffer once publish returns, as after a network send.
    this.network.route(this, { subject, data: data.slice(), reply: options.reply }, true);
  }

  subscribe(subject: string, onMessage: (message: BrokerMessage) => void): Unsubscribe {
    this.assertOpen(`subscribe to ${subject}`);
    checkPattern(subject);
    const subscription: MemorySubscription = { pattern: subject, broker: this, onMessage, active: true };
    this.subscriptions.add(subscription);
    this.network.add(subscription);
    return () => {
      subscription.active = false;
      this.subscriptions.delete(subscription);
      this.network.remove(subscription);
    };
  }

  async request(subject: string, data: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    this.assertOpen(`request on ${subject}`);
    checkSubject(subject);
    // The server answers "no responders" only to a client it can hear; a
    // disconnected requester just never gets an answer (as a NATS client
    // whose request sits in its reconnect buffer).
    if (this.connected && !this.network.hasInterest(subject)) throw new NoRespondersError(subject);
    const inbox = this.newInbox();
    return new Promise<Uint8Array>((resolve, reject) => {
      const finish = () => {
        clearTimeout(timer);
        unsubscribe();
        this.pendingRequests.delete(abort);
      };
      const abort = (error: Error) => {
        finish();
        reject(error);
      };
      const unsubscribe = this.subscribe(inbox, (answer) => {
        finish();
        resolve(answer.data);
      });
      const timer = setTimeout(() => abort(new BrokerTimeoutError(subject, timeoutMs)), timeoutMs);
      this.pendingRequests.add(abort);
      this.network.route(this, { subject, data: data.slice(), reply: inbox }, true);
    });
  }

  newInbox(): string {
    this.assertOpen("newInbox");
    this.inboxes += 1;
    return `_INBOX.${this.connectionId}.${this.inboxes}`;
  }

  async flush(): Promise<void> {
    this.assertOpen("flush");
    await new Promise<void>((resolve, reject) => {
      const waiter = { resolve, reject };
      this.waitingFlushes.add(waiter);
      if (this.connected) this.releaseFlushes();
    });
  }

  onReconnect(listener: () => void): Unsubscribe {
    this.assertOpen("onReconnect");
    this.reconnectListeners.add(listener);
    return () => this.reconnectListeners.delete(listener);
  }

  async durableLog(name: string, subjects: string): Promise<DurableLog> {
    this.assertConnected(`durable log ${name}`);
    return memoryLogHandle(this.network.openLog(name, subjects), this);
  }

  async ping(): Promise<number> {
    this.assertOpen("ping");
    if (!this.connected) throw new BrokerError(`ping from ${this.name} failed: disconnected from the memory bus (simulated outage)`);
    const started = performance.now();
    await new Promise<void>((resolve) => this.network.schedule(resolve));
    return performance.now() - started;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const subscription of this.subscriptions) {
      subscription.active = false;
      this.network.remove(subscription);
    }
    this.subscriptions.clear();
    for (const stop of this.follows) stop();
    this.follows.clear();
    for (const abort of this.pendingRequests) abort(new BrokerClosedError("request"));
    for (const waiter of this.waitingFlushes) waiter.reject(new BrokerClosedError("flush"));
    this.waitingFlushes.clear();
    this.reconnectListeners.clear();
    this.network.forget(this);
  }

  /** Called by the bus when a simulated outage ends (after it set `connected`). */
  reconnected(): void {
    this.releaseFlushes();
    for (const listener of this.reconnectListeners) {
      this.network.schedule(() => runHandler("reconnect", listener, undefined));
    }
  }

  assertOpen(what: string): void {
    if (this.closed) throw new BrokerClosedError(what);
  }

  assertConnected(what: string): void {
    this.assertOpen(what);
    if (!this.connected) {
      throw new BrokerError(`${what} from ${this.name} failed: disconnected from the memory bus (simulated outage); retry after it reconnects`);
    }
  }

  /** A JetStream append is a core publish that a stream captures: core subscribers of its subject get it too. */
  announceAppended(subject: string, data: Uint8Array): void {
    this.network.route(this, { subject, data: data.slice(), reply: undefined }, false);
  }

  trackFollow(stop: Unsubscribe): Unsubscribe {
    this.follows.add(stop);
    return () => {
      this.follows.delete(stop);
      stop();
    };
  }

  private releaseFlushes(): void {
    const waiters = [...this.waitingFlushes];
    this.waitingFlushes.clear();
    // Scheduled behind every delivery queued so far: after a flush, what was
    // published before it has been handed to its subscribers.
    this.network.schedule(() => {
      for (const waiter of waiters) waiter.resolve();
    });
  }
}

/** One connection's view of a shared memory log: refused once that connection is closed or down. */
function memoryLogHandle(store: MemoryLogStore, broker: MemoryBroker): DurableLog {
  const log = `durable log ${store.name}`;
  return {
    async append(subject, data) {
      broker.assertConnected(`${log}: append on ${subject}`);
      const sequence = store.append(subject, data);
      broker.announceAppended(subject, data);
      return sequence;
    },
    async follow(fromSequence, onEntry) {
      broker.assertConnected(`${log}: follow`);
      const follower: LogFollower = {
        cursor: fromSequence,
        onEntry,
        canReceive: () => broker.connected,
        active: true,
        scheduled: false,
      };
      return broker.trackFollow(store.follow(follower));
    },
    async readAll() {
      broker.assertConnected(`${log}: readAll`);
      return store.readAll();
    },
    async purge(subject, belowSequence) {
      broker.assertConnected(`${log}: purge of ${subject}`);
      store.purge(subject, belowSequence);
    },
    async lastSequence() {
      broker.assertConnected(`${log}: lastSequence`);
      return store.lastSequence();
    },
    async entryCount() {
      broker.assertConnected(`${log}: entryCount`);
      return store.entryCount();
    },
  };
}
