import type { Origin } from "../runtime";

/**
 * GET /metrics: the origin's Prometheus metrics (text exposition format).
 * Unauthenticated like the edges' /metrics, as Prometheus expects: it holds
 * counts and timings, no page content and no account data. Keep it off the
 * public internet the same way (docs/ops/README.md).
 */
export async function handleMetrics(origin: Origin): Promise<Response> {
  const { registry } = origin.metrics;
  return new Response(await registry.metrics(), { headers: { "content-type": registry.contentType } });
}
