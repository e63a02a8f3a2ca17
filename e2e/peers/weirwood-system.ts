import { randomBytes } from "node:crypto";
import type { DurabilityLevel } from "../../protocol/messages";
import type { RunningPops } from "../load/bench-system";
import { startManaged } from "../spike/deployment";
import type { BenchServices, RunningSystem, SystemSpec } from "./system";

/** Weirwood's default flush interval (EDGE_FLUSH_MS), the counterpart of Hocuspocus's 2,000 ms debounce. */
export const WEIRWOOD_FLUSH_MS = 2000;

/**
 * Weirwood self-hosted as the README says, through the spike's managed
 * deployment: the origin (`npm run origin`: Next.js wiki + API) over a
 * fresh Postgres database, and PoPs of `npm run edge` processes over NATS.
 * PoP names are random so that their JetStream logs never meet another
 * run's on the shared NATS.
 */
/** The origin's quiet period for edges flushing every `flushMs`: its default (5 s) for 2 s flushes, 1.5 intervals for slower ones. */
function quietMsFor(flushMs: number): number {
  return Math.max(5000, Math.round(flushMs * 1.5));
}

export function weirwoodSpec(shape: { pops: number; replicasPerPop: number }, durability: DurabilityLevel, flushMs = WEIRWOOD_FLUSH_MS): SystemSpec {
  const name = shape.pops === 1 && shape.replicasPerPop === 1 ? "1 edge" : `${shape.pops} PoPs × ${shape.replicasPerPop} replicas`;
  const flush = flushMs === WEIRWOOD_FLUSH_MS ? "" : `, flush every ${flushMs / 1000} s`;
  return {
    id: `weirwood-${shape.pops}x${shape.replicasPerPop}-${durability}${flushMs === WEIRWOOD_FLUSH_MS ? "" : `-flush${flushMs / 1000}s`}`,
    label: `Weirwood ${name}, ${durability}${flush}`,
    family: "weirwood",
    // The last flush, then the text refresh once the page is quiet (the
    // origin's ORIGIN_TEXT_QUIET_MS, as startWeirwood sets it), then a tick.
    settleMs: 2 * flushMs + quietMsFor(flushMs) + 1000,
    settings: `origin process + ${shape.pops * shape.replicasPerPop} edge process(es), EDGE_DURABILITY=${durability}, EDGE_FLUSH_MS=${flushMs}${flushMs === WEIRWOOD_FLUSH_MS ? " (default)" : ""}, EDGE_RATE_LIMIT=off, NATS JetStream`,
    start: (services) => startWeirwood(services, shape, durability, flushMs),
  };
}

async function startWeirwood(
  services: BenchServices,
  shape: { pops: number; replicasPerPop: number },
  durability: DurabilityLevel,
  flushMs: number,
): Promise<RunningSystem> {
  // A page is quiet once no flush came for longer than the edges' flush
  // interval: the origin's default (5 s) suits the default 2 s flushes.
  const originEnv: Record<string, string> = { ORIGIN_TEXT_QUIET_MS: String(quietMsFor(flushMs)) };
  const deployment = await startManaged({ pgUrl: services.pgUrl, natsUrl: services.natsUrl, log: services.log, databasePrefix: "weirwood_peers", originEnv });
  const runs: RunningPops[] = [];
  try {
    const tag = randomBytes(3).toString("hex");
    const popOptions = {
      pops: Array.from({ length: shape.pops }, (_, i) => `peers-${tag}-${i + 1}`),
      replicasPerPop: shape.replicasPerPop,
      durability,
      flushMs,
    };
    runs.push(await deployment.startPops(popOptions));
    const accounts = await deployment.register(2, `Peers ${tag}`);
    const current = () => runs[runs.length - 1]!;
    return {
      provider: "y-websocket",
      urls: current().edges.map((edge) => edge.url),
      tokens: accounts.map((account) => account.token),
      databaseName: deployment.databaseName,
      processes() {
        const originPid = deployment.originPid();
        return [
          ...(originPid ? [{ name: "origin", pid: originPid }] : []),
          ...current().edges.map((edge) => ({ name: `edge ${edge.replica.replace(`peers-${tag}-`, "")}`, pid: edge.pid })),
        ];
      },
      sharedServices: [{ name: "NATS", comm: "nats-server" }],
      async storedText(slug) {
        // Through the origin's HTTP API, never its tables: they are being reshaped (issue 15).
        return (await deployment.originTexts([slug])).get(slug) ?? "";
      },
      async crash() {
        for (const edge of current().edges) edge.kill("SIGKILL");
        await Promise.all(current().edges.map((edge) => edge.exited));
      },
      async restart() {
        runs.push(await deployment.startPops(popOptions));
      },
      async close() {
        // Newest first: each stop deletes the PoPs' logs, which a crashed run's successor still replays.
        for (const run of runs.reverse()) await run.stop(15_000).catch((error: unknown) => services.log(`stopping edges: ${(error as Error).message}`));
        await deployment.close();
      },
    };
  } catch (error) {
    for (const run of runs) await run.stop(5000).catch(() => undefined);
    await deployment.close();
    throw error;
  }
}
