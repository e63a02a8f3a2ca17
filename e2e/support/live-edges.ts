import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { APIRequestContext } from "@playwright/test";

/**
 * Real edges, for live-edge.spec.ts: the server under test lists them at
 * GET /api/edges. These specs run when WEIRWOOD_E2E_LIVE_EDGES=1 and the
 * server starts edges (WEIRWOOD_E2E_SERVER="npm start").
 */
export const LIVE_EDGES = process.env.WEIRWOOD_E2E_LIVE_EDGES === "1";
export const WAITING_FOR_THE_EDGE =
  "waiting for the edge: run with WEIRWOOD_E2E_LIVE_EDGES=1 and a server that starts edges (WEIRWOOD_E2E_SERVER=\"npm start\")";

export interface LiveEdge {
  pop: string;
  replica: string;
  url: string;
  state: "up" | "draining";
}

export async function liveEdges(request: APIRequestContext): Promise<LiveEdge[]> {
  const response = await request.get("/api/edges");
  if (!response.ok()) throw new Error(`GET /api/edges answered ${response.status()}: ${await response.text()}`);
  return (await response.json()) as LiveEdge[];
}

/**
 * Stops one replica (SIGTERM-like: it drains) by running
 * WEIRWOOD_E2E_STOP_REPLICA with "{replica}" replaced, e.g. a command that
 * signals the replica's process. Unset: the reconnect spec is skipped.
 */
export const STOP_REPLICA_COMMAND = process.env.WEIRWOOD_E2E_STOP_REPLICA;

export async function stopReplica(replica: string): Promise<void> {
  if (!STOP_REPLICA_COMMAND) throw new Error("WEIRWOOD_E2E_STOP_REPLICA is not set: say how to stop a replica");
  await promisify(execFile)("sh", ["-c", STOP_REPLICA_COMMAND.replaceAll("{replica}", replica)]);
}
