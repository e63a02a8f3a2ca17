import { Counter, Histogram, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { bucketIncrease, buckets, counterRate, quantile, rate, type Scrape, total } from "./aggregate";
import { MetricsFormatError, parseMetricsText } from "./metrics-text";

/** A replica's registry, as an edge has one, scraped as the ops view would. */
function replicaMetrics() {
  const registry = new Registry();
  registry.setDefaultLabels({ pop: "us-east", replica: "us-east-a" });
  const edits = new Counter({ name: "weirwood_edge_edits_total", help: "edits", labelNames: ["result"] as const, registers: [registry] });
  const ack = new Histogram({
    name: "weirwood_edge_ack_latency_seconds",
    help: "ack",
    labelNames: ["durability"] as const,
    buckets: [0.001, 0.005, 0.01, 0.05],
    registers: [registry],
  });
  const scrape = async (at: number): Promise<Scrape> => ({ replica: "us-east-a", at, ok: true, samples: parseMetricsText(await registry.metrics()) });
  return { edits, ack, scrape };
}

describe("ops aggregation", () => {
  it("reads prom-client's exposition text, labels and all", async () => {
    const { edits, scrape } = replicaMetrics();
    edits.inc({ result: "accepted" }, 41);
    const scraped = await scrape(0);
    if (!scraped.ok) throw new Error("scrape failed");
    expect(total(scraped.samples, "weirwood_edge_edits_total", { result: "accepted", replica: "us-east-a" })).toBe(41);
    expect(total(scraped.samples, "weirwood_edge_edits_total", { result: "refused" })).toBeUndefined();
  });

  it("a counter's rate is its increase over the seconds between two scrapes", async () => {
    const { edits, scrape } = replicaMetrics();
    edits.inc({ result: "accepted" }, 100);
    const first = await scrape(10_000);
    edits.inc({ result: "accepted" }, 250);
    edits.inc({ result: "refused" }, 5);
    const second = await scrape(15_000);
    expect(rate(first, second, "weirwood_edge_edits_total", { result: "accepted" })).toBe(50);
    expect(rate(first, second, "weirwood_edge_edits_total")).toBe(51);
  });

  it("a counter that went down was reset: the rate counts from zero", () => {
    const at = (value: number, when: number): Scrape => ({
      replica: "r",
      at: when,
      ok: true,
      samples: [{ name: "weirwood_edge_edits_total", labels: {}, value }],
    });
    expect(rate(at(900, 0), at(30, 10_000), "weirwood_edge_edits_total")).toBe(3);
  });

  it("a replica whose metrics cannot be read has no rate, not a rate of zero", async () => {
    const { scrape } = replicaMetrics();
    const good = await scrape(0);
    const failed: Scrape = { replica: "us-east-a", at: 5000, ok: false, error: "connect ECONNREFUSED" };
    expect(rate(good, failed, "weirwood_edge_edits_total")).toBeUndefined();
    expect(rate(failed, good, "weirwood_edge_edits_total")).toBeUndefined();
  });

  it("a labelled counter not exported yet counts as 0 in a scrape that was read, and still unknown in one that failed", async () => {
    const { edits, scrape } = replicaMetrics();
    const first = await scrape(0);
    expect(rate(first, await scrape(1000), "weirwood_edge_edits_total", { result: "accepted" })).toBeUndefined();
    expect(counterRate(first, await scrape(1000), "weirwood_edge_edits_total", { result: "accepted" })).toBe(0);
    edits.inc({ result: "accepted" }, 8);
    expect(counterRate(first, await scrape(2000), "weirwood_edge_edits_total", { result: "accepted" })).toBe(4);
    const failed: Scrape = { replica: "us-east-a", at: 3000, ok: false, error: "timeout" };
    expect(counterRate(first, failed, "weirwood_edge_edits_total", { result: "accepted" })).toBeUndefined();
  });

  it("percentiles come from the histogram's buckets, interpolated as Prometheus does", async () => {
    const { ack, scrape } = replicaMetrics();
    for (let i = 0; i < 90; i++) ack.observe({ durability: "edge" }, 0.0005);
    for (let i = 0; i < 10; i++) ack.observe({ durability: "edge" }, 0.03);
    const scraped = await scrape(0);
    if (!scraped.ok) throw new Error("scrape failed");
    const edge = buckets(scraped.samples, "weirwood_edge_ack_latency_seconds", { durability: "edge" });
    // 50th of 100 observations: inside the first bucket (0..1 ms), halfway and a bit.
    expect(quantile(edge, 0.5)).toBeCloseTo(0.001 * (50 / 90), 6);
    // 99th: in the 10..50 ms bucket, which holds the last 10.
    expect(quantile(edge, 0.99)).toBeCloseTo(0.01 + 0.04 * (9 / 10), 6);
    expect(quantile(buckets(scraped.samples, "weirwood_edge_ack_latency_seconds", { durability: "pop" }), 0.99)).toBeUndefined();
  });

  it("percentiles over an interval use the buckets' increase between two scrapes", async () => {
    const { ack, scrape } = replicaMetrics();
    for (let i = 0; i < 100; i++) ack.observe({ durability: "edge" }, 0.04);
    const first = await scrape(0);
    for (let i = 0; i < 100; i++) ack.observe({ durability: "edge" }, 0.0005);
    const second = await scrape(5000);
    if (!first.ok || !second.ok) throw new Error("scrape failed");
    const name = "weirwood_edge_ack_latency_seconds";
    const recent = bucketIncrease(buckets(first.samples, name), buckets(second.samples, name));
    expect(quantile(recent, 0.99)).toBeLessThanOrEqual(0.001);
  });

  it("a NaN as prom-client spells it (Nan) is read as NaN, not refused", () => {
    expect(parseMetricsText("weirwood_edge_nodejs_eventloop_lag_mean_seconds Nan\n")[0]?.value).toBeNaN();
  });

  it("text that is not Prometheus' format is a clear error naming the line", () => {
    expect(() => parseMetricsText("# HELP x\nweirwood_edge_connections 3\nnot a sample at all\n")).toThrow(MetricsFormatError);
    expect(() => parseMetricsText("weirwood_edge_connections three")).toThrow(/line 1 has no number/);
  });
});
