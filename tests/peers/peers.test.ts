import { describe, expect, it } from "vitest";
import { SYSTEMS } from "../../e2e/peers/bench";
import { runPoint } from "../../e2e/peers/run-point";
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

describe("bench:peers, smallest load point", () => {
  for (const spec of SYSTEMS) {
    it(`every marker sent to ${spec.label} is delivered to each probe and stored in its Postgres database`, async () => {
      const point = await runPoint(spec, load, { services, probes: 2, workers: 2, serverCores: undefined, storeTimeoutMs: 30_000, windowAfterLoadMs: 0 });
      expect(point.sent).toBe(200);
      expect(point.delivery.delivered).toBe(point.delivery.expected);
      expect(point.storedMarkers).toBe(200);
    }, 120_000);
  }
});
