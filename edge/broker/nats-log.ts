import {
  type Consumer,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  JetStreamApiCodes,
  JetStreamApiError,
  type JsMsg,
  StorageType,
} from "@nats-io/jetstream";
import { BrokerError, type DurableLog, type LogEntry, type Unsubscribe } from "./broker";
import { runHandler } from "./handlers";
import { checkPattern, checkSubject, subjectMatches } from "./subjects";

export interface JetStreamLogOptions {
  js: JetStreamClient;
  jsm: JetStreamManager;
  name: string;
  subjects: string;
  /** 1 on a single server; 3 (R3) on a cluster, so that the log outlives a NATS server. */
  replicas: number;
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

function isStreamNotFound(error: unknown): boolean {
  return error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound;
}

/** A failure of `what`, saying which stream on which server. */
function logError(options: JetStreamLogOptions, what: string, error: unknown): BrokerError {
  const reason = error instanceof Error ? error.message : String(error);
  return new BrokerError(`durable log ${options.name}: ${what} failed on NATS ${options.server}: ${reason}`, { cause: error });
}

async function ensureStream(options: JetStreamLogOptions): Promise<void> {
  const { jsm, name, subjects, replicas } = options;
  const existing = await streamSubjects(options);
  if (existing === undefined) {
    try {
      await jsm.streams.add({ name, subjects: [subjects], storage: StorageType.File, num_replicas: replicas });
      return;
    } catch (error) {
      // Another replica of the PoP may have created it a moment ago, with a
      // configuration that differs in something we do not care about.
      const raced = await streamSubjects(options).catch(() => undefined);
      if (raced === undefined) {
        throw logError(options, `creating its stream (subjects "${subjects}", ${replicas} replica(s))`, error);
      }
      checkSameSubjects(options, raced);
      return;
    }
  }
  checkSameSubjects(options, existing);
}

async function streamSubjects(options: JetStreamLogOptions): Promise<string[] | undefined> {
  try {
    const info = await options.jsm.streams.info(options.name);
    return info.config.subjects ?? [];
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
      throw logError(this.options, `append on ${subject}`, error);
    }
  }

  async follow(fromSequence: bigint, onEntry: (entry: LogEntry) => void): Promise<Unsubscribe> {
    const start = fromSequence < 1n ? 1n : fromSequence;
    let consumer: Consumer;
    let messages: ConsumerMessages;
    try {
      consumer = await this.options.js.consumers.get(this.options.name, { opt_start_seq: Number(start) });
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
      const { state } = await jsm.streams.info(name);
      if (state.messages === 0) return [];
      const last = state.last_seq;
      const consumer = await js.consumers.get(name, { opt_start_seq: state.first_seq });
      const entries: LogEntry[] = [];
      try {
        // Until the newest entry at call time: later appends (or a purge
        // racing us) must not keep this loop waiting. A fetch that expires
        // empty ends it too.
        for (;;) {
          const batch = await consumer.fetch({ max_messages: 1000, expires: 2000 });
          let received = 0;
          let done = false;
          for await (const message of batch) {
            received += 1;
            if (message.seq <= last) entries.push(toEntry(message));
            if (message.seq >= last || message.info.pending === 0) {
              done = true;
              break;
            }
          }
          if (done || received === 0) return entries;
        }
      } finally {
        await consumer.delete().catch(() => false);
      }
    } catch (error) {
      throw logError(this.options, "readAll", error);
    }
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
