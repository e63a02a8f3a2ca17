import { randomBytes } from "node:crypto";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import type { Broker } from "../../broker/broker";
import type { BrokerTestBed } from "./broker-contract";
import { connectNats } from "../../broker/nats";

/**
 * The NATS server the tests run against (JetStream on). Required in CI (and
 * whenever WEIRWOOD_TEST_NATS_URL is set): there a missing server fails the
 * run. On a developer machine without one, its tests are skipped with a note.
 */
export const TEST_NATS_URL = process.env.WEIRWOOD_TEST_NATS_URL ?? "nats://127.0.0.1:4222";
const natsRequired = Boolean(process.env.CI || process.env.WEIRWOOD_TEST_NATS_URL);

async function withConnection<T>(use: (nc: NatsConnection) => Promise<T>): Promise<T> {
  const nc = await connect({ servers: TEST_NATS_URL, timeout: 2000, reconnect: false });
  try {
    return await use(nc);
  } finally {
    await nc.close();
  }
}

/** Whether NATS with JetStream answers; throws instead when the tests require it. */
export async function natsAnswers(): Promise<boolean> {
  try {
    // jetstreamManager() asks for the account's JetStream info: fails when -js is off.
    await withConnection((nc) => jetstreamManager(nc));
    return true;
  } catch (error) {
    if (natsRequired) {
      throw new Error(
        `NATS at ${TEST_NATS_URL} does not answer with JetStream on (${(error as Error).message}); CI needs it: start it (see .ci/run and ENVIRONMENT.md)`,
        { cause: error },
      );
    }
    console.warn(`NATS at ${TEST_NATS_URL} does not answer with JetStream on: skipping its broker tests (CI runs them).`);
    return false;
  }
}

/**
 * Brokers on the test server that own their data: subjects and stream names
 * start with a namespace unique to this test, and cleanup deletes the streams
 * under it.
 */
export function natsTestBed(): BrokerTestBed {
  const namespace = `wwtest_${randomBytes(6).toString("hex")}`;
  const brokers: Broker[] = [];
  let connections = 0;
  return {
    namespace,
    async connect() {
      connections += 1;
      const broker = await connectNats({ servers: TEST_NATS_URL, name: `${namespace}-${connections}` });
      brokers.push(broker);
      return broker;
    },
    async cleanup() {
      await Promise.all(brokers.map((broker) => broker.close()));
      await withConnection(async (nc) => {
        const jsm = await jetstreamManager(nc);
        for await (const stream of jsm.streams.names()) {
          if (stream.startsWith(namespace)) await jsm.streams.delete(stream);
        }
      });
    },
  };
}
