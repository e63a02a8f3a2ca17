import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SYSTEMS } from "../../e2e/peers/bench";
import { type PointResult, runPoint } from "../../e2e/peers/run-point";
import { TEST_PG_URL } from "../support/databases";

/**
 * `npm run bench:peers` at its smallest load point, so that the bench cannot
 * rot: every system it compares is started as its own processes, driven by
 * the stock providers, and must hold every marker in its own Postgres
 * database afterwards. Counts only; the bench's figures are not asserted.
 */
const services = {
  pgUrl: TEST_PG_URL,
  natsUrl: process.env.NATS_URL ?? "nats://127.0.0.1:4222",
  redisUrl: process.env.REDIS_URL ?? "redis://127.0.0.1:6379",
  log: () => {},
};
const load = { clients: 20, ratePerSecond: 100, durationMs: 2000 };

/**
 * Three systems at a time: each spends most of its time starting processes
 * and waiting for a persist interval, and each owns its database, PoPs,
 * Redis prefix and page, so that they cannot meet. One after the other they
 * took 144 s on the shared 2-core machine.
 */
function inLanes<T>(tasks: (() => Promise<T>)[], lanes: number): Promise<T>[] {
  const results = tasks.map(() => {
    let settle!: { resolve(value: T): void; reject(error: unknown): void };
    const promise = new Promise<T>((resolve, reject) => (settle = { resolve, reject }));
    promise.catch(() => undefined); // awaited by its own test
    return { promise, settle };
  });
  let next = 0;
  const lane = async () => {
    while (next < tasks.length) {
      const i = next++;
      await tasks[i]!().then(results[i]!.settle.resolve, results[i]!.settle.reject);
    }
  };
  for (let i = 0; i < lanes; i++) void lane();
  return results.map((result) => result.promise);
}

describe("bench:peers, smallest load point", () => {
  let points: Promise<PointResult>[] = [];
  beforeAll(() => {
    points = inLanes(
      SYSTEMS.map((spec) => () => runPoint(spec, load, { services, probes: 2, workers: 2, serverCores: undefined, storeTimeoutMs: 30_000, windowAfterLoadMs: 0 })),
      3,
    );
  });
  // Nothing the file started may outlive it, even when a test is filtered out or fails first.
  afterAll(() => Promise.allSettled(points), 240_000);

  SYSTEMS.forEach((spec, i) => {
    it(`every marker sent to ${spec.label} is delivered to each probe and stored in its Postgres database`, async () => {
      const point = await points[i]!;
      expect(point.sent).toBe(200);
      expect(point.delivery.delivered).toBe(point.delivery.expected);
      expect(point.storedMarkers).toBe(200);
    }, 240_000);
  });
});
