import { jetstream, type JetStreamManager, jetstreamManager } from "@nats-io/jetstream";
import { connect, createInbox, errors, type NatsConnection } from "@nats-io/transport-node";
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
import { waitOutUnavailable } from "./jetstream-wait";
import { openJetStreamLog } from "./nats-log";
import { checkLogName, checkPattern, checkSubject } from "./subject-patterns";

export interface NatsBrokerOptions {
  /** e.g. "nats://127.0.0.1:4222", or the servers of a cluster. */
  servers: string | string[];
  /** Shown in the server's connection list: use the replica id. */
  name: string;
  /**
   * Replicas of each durable log's stream. 1 (the default) on a single
   * server: the log outlives every edge replica but not the NATS server.
   * 3 (R3) on a NATS cluster to outlive a server too.
   */
  logReplicas?: number;
  /** Bound of each durable log, in bytes (default 1 GiB; 0: none); full, it refuses appends. */
  logMaxBytes?: number;
  /** Bound of each durable log's entries' age, in ms (default 7 days; 0: none). */
  logMaxAgeMs?: number;
  /** How long the first connection attempt may take, in ms (default 5000). */
  connectTimeoutMs?: number;
  /** Pause between reconnection attempts to a server, in ms (default 2000, nats.js's). */
  reconnectWaitMs?: number;
}

/**
 * A Broker over NATS: core pub/sub and request/reply, JetStream for durable
 * logs. Fails at once, naming the servers, when none answers. Once
 * connected it reconnects forever; subscriptions and log follows resume by
 * themselves (nats.js resubscribes and recreates ordered consumers), and
 * onReconnect listeners run so that anti-entropy repairs what was missed.
 */
/** Defaults of the durable logs' bounds (docs/configuration.md: EDGE_LOG_MAX_BYTES, EDGE_LOG_MAX_AGE_S). */
export const DEFAULT_LOG_MAX_BYTES = 1024 * 1024 * 1024;
export const DEFAULT_LOG_MAX_AGE_MS = 7 * 24 * 3600 * 1000;

export async function connectNats(options: NatsBrokerOptions): Promise<Broker> {
  const servers = Array.isArray(options.servers) ? options.servers : [options.servers];
  const logReplicas = options.logReplicas ?? 1;
  if (!Number.isInteger(logReplicas) || logReplicas < 1 || logReplicas > 5) {
    throw new BrokerError(`nats: logReplicas must be an integer from 1 to 5 (JetStream's limit), got ${logReplicas}`);
  }
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers,
      name: options.name,
      timeout: options.connectTimeoutMs ?? 5000,
      // An edge replica outlives NATS restarts: keep trying (the default
      // gives up after 10 attempts and closes the connection for good).
      maxReconnectAttempts: -1,
      // The list is in order of preference (a PoP host's own server first):
      // nats.js would shuffle it. On a server's loss it moves to the next one.
      noRandomize: true,
      // No Error (with its stack trace) built up front for every request
      // and its timeout, in case it fails: at `pop` every log append is a
      // request, and the two were 3% of the edges' CPU (issue 19). Our
      // errors name the operation and subject that failed instead.
      noAsyncTraces: true,
      ...(options.reconnectWaitMs === undefined ? {} : { reconnectTimeWait: options.reconnectWaitMs }),
    });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new BrokerError(
      `nats: cannot connect to ${servers.join(", ")} (${reason}); start nats-server there (with -js for durable logs) or point the edge at a running one`,
      { cause: error },
    );
  }
  const logLimits = { maxBytes: options.logMaxBytes ?? DEFAULT_LOG_MAX_BYTES, maxAgeMs: options.logMaxAgeMs ?? DEFAULT_LOG_MAX_AGE_MS };
  return new NatsBroker(nc, servers.join(", "), logReplicas, logLimits);
}

class NatsBroker implements Broker {
  private closed = false;
  private readonly reconnectListeners = new Set<() => void>();
  private readonly follows = new Set<() => Promise<void>>();
  private readonly statusLoop: Promise<void>;
  private manager: Promise<JetStreamManager> | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly server: string,
    private readonly logReplicas: number,
    private readonly logLimits: { maxBytes: number; maxAgeMs: number },
  ) {
    this.statusLoop = this.watchStatus();
  }

  publish(subject: string, data: Uint8Array, options: PublishOptions = {}): void {
    this.assertOpen(`publish on ${subject}`);
    checkSubject(subject);
    if (options.reply !== undefined) checkSubject(options.reply);
    try {
      // nats.js queues the caller's buffer and writes it on a later tick: a
      // copy lets the caller reuse its buffer at once, as with the memory bus.
      this.nc.publish(subject, data.slice(), options.reply === undefined ? undefined : { reply: options.reply });
    } catch (error) {
      throw this.failure(`publish on ${subject}`, error);
    }
  }

  subscribe(subject: string, onMessage: (message: BrokerMessage) => void): Unsubscribe {
    this.assertOpen(`subscribe to ${subject}`);
    checkPattern(subject);
    try {
      const subscription = this.nc.subscribe(subject, {
        callback: (error, message) => {
          if (error !== null) {
            // Only a server-side refusal (permissions) ends a subscription
            // this way; nothing will arrive on it any more.
            console.error(`broker: subscription to "${subject}" on NATS ${this.server} ended: ${error.message}`);
            return;
          }
          // nats.js gives "" for a message without a reply subject.
          runHandler(message.subject, onMessage, { subject: message.subject, data: message.data, reply: message.reply || undefined });
        },
      });
      return () => {
        if (!subscription.isClosed()) subscription.unsubscribe();
      };
    } catch (error) {
      throw this.failure(`subscribe to ${subject}`, error);
    }
  }

  async request(subject: string, data: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    this.assertOpen(`request on ${subject}`);
    checkSubject(subject);
    try {
      const answer = await this.nc.request(subject, data.slice(), { timeout: timeoutMs });
      return answer.data;
    } catch (error) {
      // NATS >= 2.2 answers a request nobody subscribes to with a 503
      // status (the "no responders" header), which nats.js reports as a
      // RequestError caused by NoRespondersError.
      if (error instanceof errors.RequestError && error.isNoResponders()) throw new NoRespondersError(subject);
      if (error instanceof errors.TimeoutError) throw new BrokerTimeoutError(subject, timeoutMs);
      throw this.failure(`request on ${subject}`, error);
    }
  }

  newInbox(): string {
    this.assertOpen("newInbox");
    return createInbox();
  }

  async flush(): Promise<void> {
    this.assertOpen("flush");
    try {
      await this.nc.flush();
    } catch (error) {
      throw this.failure("flush", error);
    }
  }

  onReconnect(listener: () => void): Unsubscribe {
    this.assertOpen("onReconnect");
    this.reconnectListeners.add(listener);
    return () => this.reconnectListeners.delete(listener);
  }

  async durableLog(name: string, subjects: string): Promise<DurableLog> {
    this.assertOpen(`durable log ${name}`);
    checkLogName(name);
    checkPattern(subjects);
    return openJetStreamLog({
      js: jetstream(this.nc),
      jsm: await this.jetStreamManager(name),
      name,
      subjects,
      replicas: this.logReplicas,
      limits: this.logLimits,
      server: this.server,
      track: (stop) => {
        this.follows.add(stop);
        return () => this.follows.delete(stop);
      },
    });
  }

  async ping(): Promise<number> {
    this.assertOpen("ping");
    try {
      return await this.nc.rtt();
    } catch (error) {
      throw this.failure("ping", error);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const follows = [...this.follows];
    this.follows.clear();
    // Deleting a follow's consumer is a JetStream request: while the server
    // is unreachable it would hold close() for the request timeout. Bounded,
    // the server drops what is left after the consumers' inactive threshold.
    await Promise.race([Promise.all(follows.map((stop) => stop())), new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
    this.reconnectListeners.clear();
    await this.nc.close();
    await this.statusLoop;
  }

  private async watchStatus(): Promise<void> {
    // The iterator ends when the connection closes.
    for await (const status of this.nc.status()) {
      if (status.type !== "reconnect") continue;
      for (const listener of this.reconnectListeners) runHandler("reconnect", listener, undefined);
    }
  }

  /** One JetStreamManager per connection; its creation checks that JetStream is on. */
  private jetStreamManager(logName: string): Promise<JetStreamManager> {
    this.manager ??= waitOutUnavailable(() => jetstreamManager(this.nc));
    return this.manager.catch((error: unknown) => {
      this.manager = undefined;
      const reason = error instanceof Error ? error.message : String(error);
      throw new BrokerError(
        `durable log ${logName}: JetStream does not answer on NATS ${this.server} (${reason}); start nats-server with -js (JetStream) or set up JetStream for this account`,
        { cause: error },
      );
    });
  }

  private assertOpen(what: string): void {
    if (this.closed) throw new BrokerClosedError(what);
  }

  /** What failed, on which server; a closed connection becomes BrokerClosedError. */
  private failure(what: string, error: unknown): BrokerError {
    if (error instanceof BrokerError) return error;
    // A request pending while we close fails with a plain RequestError("connection closed").
    if (this.closed || error instanceof errors.ClosedConnectionError || this.nc.isClosed()) return new BrokerClosedError(what);
    const reason = error instanceof Error ? error.message : String(error);
    return new BrokerError(`${what} failed on NATS ${this.server}: ${reason}`, { cause: error });
  }
}
