import type { ProviderKind } from "./stock-client";

/** What a system needs from this machine: the shared servers every system of the bench runs against. */
export interface BenchServices {
  /** A Postgres server URL (its `postgres` database); each system run gets a fresh database on it. */
  pgUrl: string;
  natsUrl: string;
  redisUrl: string;
  log(line: string): void;
}

/** A process of the system's own, started by the bench: its CPU and memory are the system's. */
export interface ServerProcess {
  name: string;
  pid: number;
}

/** One system under the bench's load, running on 127.0.0.1. */
export interface RunningSystem {
  /** Where its clients connect (client i uses urls[i % urls.length]) and with which stock provider. */
  provider: ProviderKind;
  urls: string[];
  tokens: string[];
  /** The fresh Postgres database it stores pages in. */
  databaseName: string;
  /** Its own processes, now. */
  processes(): ServerProcess[];
  /** Shared servers it uses besides Postgres, by command name (their CPU counts to it while it runs alone). */
  sharedServices: { name: string; comm: string }[];
  /** The page's text as stored in Postgres, read the way that system's users read it. */
  storedText(slug: string): Promise<string>;
  /** SIGKILLs the processes that hold edits not yet in Postgres; resolves once they are gone. */
  crash(): Promise<void>;
  /** Starts them again over the same database (and logs), so that whatever they recover reaches Postgres. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export interface SystemSpec {
  /** Stable id for the report, e.g. `weirwood-1x1-edge`. */
  id: string;
  label: string;
  family: "weirwood" | "hocuspocus";
  /** What was configured, for the report. */
  settings: string;
  /**
   * How long after the load everything it writes for it has been written
   * (its last persist, and for Weirwood the text refresh once the page is
   * quiet): the measured window runs that long past the load.
   */
  settleMs?: number;
  start(services: BenchServices): Promise<RunningSystem>;
}
