import type { Origin } from "../runtime";
import { OpsCollector } from "./collector";

/**
 * The origin's one ops collector, created on first use (the first visit of
 * /ops): before anyone looks it costs nothing. It lives on the Origin, not
 * in a module variable, because Next.js may load route modules in more
 * than one module graph (see origin/runtime.ts).
 */
export function opsCollectorOf(origin: Origin): OpsCollector {
  origin.ops ??= new OpsCollector({
    roster: () => origin.edges?.roster(),
    originMetrics: () => origin.metrics.registry.metrics(),
  });
  return origin.ops;
}
