import {
  AckPolicy,
  type Consumer,
  type ConsumerMessages,
  DeliverPolicy,
  DiscardPolicy,
  type JetStreamClient,
  type JetStreamManager,
  JetStreamApiCodes,
  JetStreamApiError,
  type JsMsg,
  StorageType,
  type StreamInfo,
} from "@nats-io/jetstream";
import { BrokerError, type DurableLog, type LogEntry, type Unsubscribe } from "./broker";
import { runHandler } from "./handlers";
import { waitOutUnavailable } from "./jetstream-wait";
import { checkPattern, checkSubject, subjectMatches } from "./subject-patterns";

export interface JetStreamLogOptions {
  js: JetStreamClient;
  jsm: JetStreamManager;
  name: string;
  subjects: string;
  /** 1 on a single server; 3 (R3) on a cluster, so that the log outlives a NATS server. */
  replicas: number;
  /** Bounds of the stream: bytes (0: none) and entry age in ms (0: none). Full, it refuses appends. */
  limits: { maxBytes: number; maxAgeMs: number };
  /** For error messages: which server we talk to. */
  server: string;
  /** Registers a follow so that closing the connection stops it; returns how to unregister. */
  track(stop: () => Promise<void>): () => void;
}

/**
 * A durable log over one JetStream stream (file storage). Written for NATS
 * 2.9: no stream metadata, no `first_seq`, no `filter_subjects` arrays, no
 * batched direct get (see ENVIRONMENT.md).
 */
export async function openJetStreamLog(options: JetStreamLogOptions): Promise<DurableLog> {
  await ensureStream(options);
  return new JetStreamLog(options);
}

/** JetStream's answer to an append on a stream at its bound with discard "new". */
function isStreamFull(error: unknown): boolean {
  return error instanceof Error && /maximum (bytes|messages) exceeded|resource limits exceeded/i.test(error.message);
}

function isStreamNotFound(error: unknown): boolean {
  return error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound;
}

/** A failure of `what`, saying which stream on which server. */
function logError(options: JetStreamLogOptions, what: string, error: unknown): BrokerError {
  const reason = error instanceof Error ? error.message : String(error);
  return new BrokerError(`durable log ${options.name}: ${what} failed on NATS ${options.server}: ${reason}`, { cause: error });
}

/**
 * What the stream must look like: the configured replicas and bounds, and
 * discard "new", so that a full stream refuses appends (the writer hears it)
 * instead of dropping its oldest entries, which may not be at the origin yet.
 */
function declaredConfig(options: JetStreamLogOptions) {
  return {
    subjects: [options.subjects],
    num_replicas: options.replicas,
    max_bytes: options.limits.maxBytes > 0 ? options.limits.maxBytes : -1,
    // JetStream counts age in nanoseconds; 0 is "no age bound".
    max_age: options.limits.maxAgeMs * 1_000_000,
    discard: DiscardPolicy.New,
  };
}

async function ensureStream(options: JetStreamLogOptions): Promise<void> {
  const { jsm, name, subjects, replicas } = options;
  const declared = declaredConfig(options);
  let existing = await streamInfo(options);
  if (existing === undefined) {
    try {
      await waitOutUnavailable(() => jsm.streams.add({ name, storage: StorageType.File, ...declared }));
      return;
    } catch (error) {
      // Another replica of the PoP may have created it a moment ago: check
      // that one as if it had been there.
      existing = await streamInfo(options).catch(() => undefined);
      if (existing === undefined) {
        throw logError(options, `creating its stream (subjects "${subjects}", ${replicas} replica(s)): ${refusalHint(options, error)}`, error);
      }
    }
  }
  await bringToDeclared(options, existing, declared);
}

/**
 * Updates an existing stream to the declared replicas and bounds, or
 * refuses to start saying why. Subjects are never rewritten: a stream of
 * this name that captures other subjects belongs to something else.
 */
async function bringToDeclared(options: JetStreamLogOptions, info: StreamInfo, declared: ReturnType<typeof declaredConfig>): Promise<void> {
  const { jsm, name, server } = options;
  const config = info.config;
  checkSameSubjects(options, config.subjects ?? []);
  if (config.storage !== StorageType.File) {
    throw new BrokerError(
      `durable log ${name}: its stream on NATS ${server} keeps its entries in ${config.storage} storage, not on file; ` +
        `it cannot be changed in place: move or delete it (nats stream rm ${name}) once the origin has committed its entries`,
    );
  }
  const changes: string[] = [];
  if (config.num_replicas !== declared.num_replicas) changes.push(`replicas ${config.num_replicas} -> ${declared.num_replicas}`);
  if (config.max_bytes !== declared.max_bytes) changes.push(`max_bytes ${config.max_bytes} -> ${declared.max_bytes}`);
  if (config.max_age !== declared.max_age) changes.push(`max_age ${config.max_age / 1e9}s -> ${declared.max_age / 1e9}s`);
  if (config.discard !== declared.discard) changes.push(`discard ${config.discard} -> ${declared.discard}`);
  if (changes.length === 0) return;
  if (declared.num_replicas > 1 && !info.cluster) {
    // NATS 2.9 on a single server accepts num_replicas 3 in an update and
    // reports it back, while nothing is replicated: check the server.
    throw new BrokerError(
      `durable log ${name}: cannot bring its stream on NATS ${server} to ${declared.num_replicas} replicas (EDGE_LOG_REPLICAS): ` +
        `that server is not part of a JetStream cluster (replicas 1 -> ${declared.num_replicas} cannot be had); ` +
        `set EDGE_LOG_REPLICAS=1, or point NATS_URL at a cluster of at least ${declared.num_replicas} servers`,
    );
  }
  // A tighter bound applies to the entries already there: JetStream would
  // drop the oldest, which may not be at the origin yet. Refuse instead.
  if (declared.max_bytes > 0 && info.state.bytes > declared.max_bytes) {
    throw new BrokerError(
      `durable log ${name}: its stream on NATS ${server} holds ${info.state.bytes} bytes, more than the configured bound of ` +
        `${declared.max_bytes} (EDGE_LOG_MAX_BYTES); lowering it would discard entries the origin may not have: raise the bound, ` +
        `or start with the old one until the origin has committed them`,
    );
  }
  if (declared.max_age > 0 && info.state.messages > 0) {
    const oldestMs = Date.now() - new Date(info.state.first_ts).getTime();
    if (oldestMs > declared.max_age / 1_000_000) {
      throw new BrokerError(
        `durable log ${name}: its stream on NATS ${server} holds entries ${Math.round(oldestMs / 1000)} s old, older than the configured ` +
          `age bound of ${declared.max_age / 1e9} s (EDGE_LOG_MAX_AGE_S); lowering it would discard them: raise it, or wait until the origin has committed them`,
      );
    }
  }
  try {
    await waitOutUnavailable(() => jsm.streams.update(name, { ...config, ...declared }));
  } catch (error) {
    throw logError(options, `bringing its stream to the configuration (${changes.join(", ")}): ${refusalHint(options, error)}`, error);
  }
  if (declared.num_replicas > 1) await awaitPeers(options, declared.num_replicas, info.state.last_seq);
}

/**
 * After raising the replicas, waits until the cluster placed them and the
 * stream's leader holds every entry the stream held before, or refuses to
 * start saying so. Raising R1 to R3 starts a new Raft group whose leader
 * may be one of the new, empty servers until it caught up: a replica that
 * read the log then would have replayed it short (seen in CI on NATS 2.9.10:
 * three peers placed, the stream reporting 0 entries of 1).
 */
async function awaitPeers(options: JetStreamLogOptions, replicas: number, lastSequence: number): Promise<void> {
  const deadline = Date.now() + PEERS_TIMEOUT_MS;
  let placed = 0;
  let last = 0;
  for (;;) {
    // Placed: a leader and its followers, each on its own server (while
    // scaling up, the list names every peer and no leader yet). Purges
    // lower the count of entries, never the last sequence.
    const info = await streamInfo(options);
    const cluster = info?.cluster;
    placed = cluster?.leader ? new Set([cluster.leader, ...(cluster.replicas ?? []).map((peer) => peer.name)]).size : 0;
    last = info?.state.last_seq ?? 0;
    if (placed >= replicas && last >= lastSequence) return;
    if (Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new BrokerError(
    `durable log ${options.name}: its stream on NATS ${options.server} was set to ${replicas} replicas but has ${placed} with a leader ` +
      `holding entries up to sequence ${last} of ${lastSequence} after ${PEERS_TIMEOUT_MS / 1000} s; the cluster needs ${replicas} ` +
      `JetStream servers with room for it, and its new servers must catch up (see nats stream info ${options.name})`,
  );
}

const PEERS_TIMEOUT_MS = 10_000;

/** Says what to do about the errors JetStream gives for a configuration it cannot hold. */
function refusalHint(options: JetStreamLogOptions, error: unknown): string {
  const reason = error instanceof Error ? error.message : String(error);
  if (options.replicas > 1 && /replica|cluster/i.test(reason)) {
    return `${options.replicas} replicas need a NATS cluster of at least ${options.replicas} JetStream servers; ` +
      `this one cannot hold them: set EDGE_LOG_REPLICAS=1 on a single server`;
  }
  return "see the NATS server's log";
}

async function streamInfo(options: JetStreamLogOptions): Promise<StreamInfo | undefined> {
  try {
    return await waitOutUnavailable(() => options.jsm.streams.info(options.name));
  } catch (error) {
    if (isStreamNotFound(error)) return undefined;
    throw logError(options, "reading its stream info", error);
  }
}

function checkSameSubjects(options: JetStreamLogOptions, existing: string[]): void {
  if (existing.length === 1 && existing[0] === options.subjects) return;
  throw new BrokerError(
    `durable log ${options.name}: its stream on NATS ${options.server} captures [${existing.join(", ")}], not "${options.subjects}"; ` +
      `use another name, or delete the stream (nats stream rm ${options.name}) if its entries are committed at the origin`,
  );
}

function toEntry(message: JsMsg): LogEntry {
  return { sequence: BigInt(message.seq), subject: message.subject, data: message.data };
}

class JetStreamLog implements DurableLog {
  constructor(private readonly options: JetStreamLogOptions) {}

  async append(subject: string, data: Uint8Array): Promise<bigint> {
    const { js, name, subjects } = this.options;
    checkSubject(subject);
    if (!subjectMatches(subjects, subject)) {
      // JetStream would answer "no responders", which nats.js reports as
      // "jetstream is not enabled": say what is really wrong.
      throw new BrokerError(`durable log ${name}: cannot append on "${subject}", it is outside the log's subjects "${subjects}"`);
    }
    try {
      // A copy, as in NatsBroker.publish: nats.js writes the buffer later.
      const ack = await js.publish(subject, data.slice(), { expect: { streamName: name } });
      return BigInt(ack.seq);
    } catch (error) {
      if (isStreamFull(error)) {
        throw new BrokerError(
          `durable log ${name}: full at its bound (EDGE_LOG_MAX_BYTES=${this.options.limits.maxBytes}), append on ${subject} refused: ` +
            `its entries wait for the origin to commit them (is the origin down?); the update was not logged, resend it later`,
          { cause: error },
        );
      }
      throw logError(this.options, `append on ${subject}`, error);
    }
  }

  async follow(fromSequence: bigint, onEntry: (entry: LogEntry) => void): Promise<Unsubscribe> {
    const start = fromSequence < 1n ? 1n : fromSequence;
    let consumer: Consumer;
    let messages: ConsumerMessages;
    try {
      consumer = await waitOutUnavailable(() => this.options.js.consumers.get(this.options.name, { opt_start_seq: Number(start) }));
      messages = await consumer.consume({
        callback: (message) => {
          // NATS 2.9 starts a consumer whose start sequence lies beyond the
          // last one at last + 1: skip what comes before the one we asked for.
          if (BigInt(message.seq) < start) return;
          runHandler(message.subject, onEntry, toEntry(message));
        },
      });
    } catch (error) {
      throw logError(this.options, `follow from sequence ${start}`, error);
    }
    const stop = async () => {
      // Closing or deleting fails only when the connection is already gone,
      // which stops the delivery anyway; the server then drops the ephemeral
      // ordered consumer after its inactive threshold (5 min). Deleting it
      // now just keeps the stream's consumer list short.
      await messages.close().catch(() => undefined);
      await consumer.delete().catch(() => false);
    };
    const untrack = this.options.track(stop);
    return () => {
      untrack();
      void stop();
    };
  }

  async readAll(): Promise<LogEntry[]> {
    const { js, jsm, name } = this.options;
    try {
      const { state } = await waitOutUnavailable(() => jsm.streams.info(name));
      if (state.messages === 0) return [];
      const last = state.last_seq;
      const readFrom = (sequence: number) => waitOutUnavailable(() => js.consumers.get(name, { opt_start_seq: sequence }));
      let consumer = await readFrom(state.first_seq);
      const entries: LogEntry[] = [];
      let next = state.first_seq;
      try {
        // Until the newest entry at call time: later appends must not keep
        // this loop waiting. A fetch that expires empty is not the end: on a
        // busy or stalled server it expires before delivering, and ending
        // there returned a silently short log (a replica replaying it lost
        // acknowledged entries). Nor is the consumer's own count: a pull the
        // server answered after this client had given up on it (the server
        // stalled past the fetch's expiry) counts as delivered, though
        // nothing here read it. Only the stream says nothing is left: no
        // entry at or after the next sequence (everything read, or a purge
        // racing us removed the rest).
        for (;;) {
          const batch = await consumer.fetch({ max_messages: 1000, expires: 2000 });
          let received = 0;
          let done = false;
          for await (const message of batch) {
            received += 1;
            if (message.seq <= last) entries.push(toEntry(message));
            next = message.seq + 1;
            if (message.seq >= last || message.info.pending === 0) {
              done = true;
              break;
            }
          }
          if (done || next > last) return entries;
          if (received === 0) {
            if ((await this.entriesFrom(next)) === 0) return entries;
            // Entries are there that this consumer will not deliver again: read them with a new one.
            await consumer.delete().catch(() => false);
            consumer = await readFrom(next);
          }
        }
      } finally {
        await consumer.delete().catch(() => false);
      }
    } catch (error) {
      throw logError(this.options, "readAll", error);
    }
  }

  /** How many entries the stream holds from `sequence` on: a consumer made to start there counts them as it is made. */
  private async entriesFrom(sequence: number): Promise<number> {
    const { jsm, name } = this.options;
    const counter = await waitOutUnavailable(() =>
      jsm.consumers.add(name, {
        deliver_policy: DeliverPolicy.StartSequence,
        opt_start_seq: sequence,
        ack_policy: AckPolicy.None,
        // Nanoseconds: deleted at once below, or by the server after 30 s if that fails.
        inactive_threshold: 30_000 * 1_000_000,
        mem_storage: true,
      }),
    );
    await jsm.consumers.delete(name, counter.name).catch(() => false);
    return counter.num_pending;
  }

  async purge(subject: string, belowSequence: bigint): Promise<void> {
    checkPattern(subject);
    // JetStream reads a purge without `seq` as "everything on the subject":
    // below sequence 1 there is nothing to drop, so do not ask.
    if (belowSequence <= 1n) return;
    try {
      await this.options.jsm.streams.purge(this.options.name, { filter: subject, seq: Number(belowSequence) });
    } catch (error) {
      throw logError(this.options, `purge of ${subject} below sequence ${belowSequence}`, error);
    }
  }

  async lastSequence(): Promise<bigint> {
    try {
      const { state } = await this.options.jsm.streams.info(this.options.name);
      return BigInt(state.last_seq);
    } catch (error) {
      throw logError(this.options, "lastSequence", error);
    }
  }

  async entryCount(): Promise<number> {
    try {
      const { state } = await this.options.jsm.streams.info(this.options.name);
      return state.messages;
    } catch (error) {
      throw logError(this.options, "entryCount", error);
    }
  }
}
