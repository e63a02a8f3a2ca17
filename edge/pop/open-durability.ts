import type { Broker, DurableLog } from "../../broker/broker";
import type { Logger } from "../../common/logger";
import { subjects } from "../../protocol/subjects";
import type { EdgeConfig } from "../config";
import type { OriginClient } from "../origin-sync/origin-client";
import { type Durability, inMemory, inPopLog, writeThrough } from "./durability";
import { PopLog, type PopLogHost } from "./pop-log";

export interface OpenedDurability {
  writes: Durability;
  /** At `pop`: the PoP's log, opened but not read yet. */
  popLog?: PopLog;
  durableLog?: DurableLog;
}

/**
 * A replica's durability strategy for its configured level, chosen at
 * start-up: at `pop` the PoP's log is opened (the caller starts reading
 * it once the replica writes and loads through it), at `origin` the
 * origin's write-through, at `edge` memory.
 */
export async function openDurability(deps: { config: EdgeConfig; broker: Broker; origin: OriginClient; host: PopLogHost; log: Logger }): Promise<OpenedDurability> {
  const { config } = deps;
  switch (config.durability) {
    case "pop": {
      const durableLog = await deps.broker.durableLog(subjects.logStream(config.pop), subjects.logAll(config.pop));
      const retryMs = Math.min(5000, Math.max(500, config.flushMs));
      const popLog = new PopLog(durableLog, deps.host, (slug) => subjects.logPage(config.pop, slug), deps.log, retryMs);
      return { writes: inPopLog((page, update, authors) => popLog.append(page, update, authors)), popLog, durableLog };
    }
    case "origin":
      return { writes: writeThrough(deps.origin, config.pop, config.replica) };
    case "edge":
      return { writes: inMemory() };
    default:
      return config.durability satisfies never;
  }
}
