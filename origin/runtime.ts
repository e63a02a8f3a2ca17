import type { BlockNotice } from "../protocol/blocks";
import type { DeletionNotice } from "../protocol/deletions";
import { createLogger, type Logger } from "../common/logger";
import { AccountGuard } from "./auth/account-limits";
import { loadSigningKeys, type SigningKeys } from "./auth/keys";
import { loadServiceSecret } from "./auth/service-secret";
import { type OriginConfig, originConfigFromEnv } from "./config";
import { type Database, databaseTarget, openDatabase } from "./db";
import type { EdgeDirectory } from "./edge-directory";
import { docCacheOf } from "./doc-cache";
import { createOriginMetrics, type OriginMetrics } from "./metrics";
import type { OpsCollector } from "./ops/collector";
import { TextRefresher } from "./refresher";
import { applySearchPersistence, pagesWithoutSearchCopy } from "./search-persistence";

/** Everything an origin request handler needs, passed in rather than imported. */
export interface Origin {
  readonly config: OriginConfig;
  readonly db: Database;
  readonly keys: SigningKeys;
  readonly serviceSecret: string;
  readonly log: Logger;
  /** Failed-login and registration limits (origin/auth/account-limits.ts). */
  readonly accounts: AccountGuard;
  /**
   * Listeners told after each merged batch which pages changed (and after a
   * protection change, with pop "origin"), so that the other PoPs pull them
   * at once (the hosting process wires the broker here).
   */
  readonly committed: Set<(commit: { pop: string; slugs: string[] }) => void>;
  /** Listeners told of each block and unblock, so that every edge hears it at once (origin/broker-link.ts). */
  readonly blockChanges: Set<(notice: BlockNotice) => void>;
  /** Listeners told of each page delete and undelete, so that every edge hears it at once (origin/broker-link.ts). */
  readonly deletionChanges: Set<(notice: DeletionNotice) => void>;
  /** The live edges, when the origin hears a broker (see origin/broker-link.ts). */
  edges: EdgeDirectory | undefined;
  readonly metrics: OriginMetrics;
  /** The ops view's collector, created when someone first opens /ops (origin/ops/watch.ts). */
  ops: OpsCollector | undefined;
  /** Keeps pages' text, search, links and history up with their flushes (origin/refresher.ts). */
  readonly textRefresher: TextRefresher;
  close(): Promise<void>;
}

/**
 * Opens the database (migrating it), loads or creates the signing key and the
 * edge service secret. `database` lets tests and the embedded server hand in
 * one they opened themselves.
 */
export async function startOrigin(config: OriginConfig, options: { database?: Database; processMetrics?: boolean } = {}): Promise<Origin> {
  const log = createLogger("origin", config.logLevel);
  const db = options.database ?? (await openDatabase(databaseTarget(config)));
  try {
    const migrated = await db.migrate();
    if (migrated.applied.length > 0) log.info({ applied: migrated.applied, database: db.location }, "migrations applied");
    if (await applySearchPersistence(db.prisma, config.searchPersistence)) log.info({ persistence: config.searchPersistence }, "search copies made %s (ORIGIN_SEARCH_LOGGED)", config.searchPersistence);
    const uncopied = await pagesWithoutSearchCopy(db.prisma);
    if (uncopied > 0) log.info({ pages: uncopied }, "pages without a search copy (new, or emptied by crash recovery): copying them in the background");
    const keys = await loadSigningKeys({ keyFile: config.signingKeyFile, dataDir: config.dataDir });
    const serviceSecret = await loadServiceSecret({
      secret: config.serviceSecret,
      secretFile: config.serviceSecretFile,
      dataDir: config.dataDir,
    });
    log.info({ database: db.location, kind: db.kind, kid: keys.kid }, "origin ready");
    const metrics = createOriginMetrics({ processMetrics: options.processMetrics ?? true, docBuilds: () => docCacheOf(db.prisma).builds });
    const textRefresher = new TextRefresher(db.prisma, log, {
      ...config.textRefresh,
      onRefreshed(outcome) {
        if (!outcome.refreshed) return;
        metrics.textRefreshes.inc();
        metrics.revisionsOpened.inc(outcome.revisionsOpened);
        if (outcome.compacted) metrics.compactions.inc();
      },
      search: config.searchRefresh,
      onSearchRefreshed(changed) {
        if (changed) metrics.searchReindexes.inc();
      },
    });
    textRefresher.start();
    const committed = new Set<(commit: { pop: string; slugs: string[] }) => void>([(commit) => textRefresher.noteFlushed(commit.slugs)]);
    const origin: Origin = {
      config,
      db,
      keys,
      serviceSecret,
      log,
      accounts: new AccountGuard(config.accounts),
      committed,
      blockChanges: new Set(),
      deletionChanges: new Set(),
      edges: undefined,
      metrics,
      ops: undefined,
      textRefresher,
      async close() {
        origin.ops?.stop();
        await textRefresher.stop();
        await db.close();
      },
    };
    return origin;
  } catch (error) {
    await db.close();
    throw error;
  }
}

// Next.js may evaluate route modules in more than one module graph, and an
// embedded PGlite may be opened only once per folder: the process keeps one
// origin on globalThis, created on first use or installed by the server that
// hosts Next (server/embedded).
const GLOBAL_KEY = Symbol.for("weirwood.origin");
type GlobalWithOrigin = typeof globalThis & { [GLOBAL_KEY]?: Promise<Origin> };

export function getOrigin(): Promise<Origin> {
  const global = globalThis as GlobalWithOrigin;
  if (!global[GLOBAL_KEY]) {
    const starting = startOrigin(originConfigFromEnv());
    global[GLOBAL_KEY] = starting;
    // A database that is down at the first request must not fail every later
    // one: forget the failed start so that the next request tries again.
    starting.catch(() => {
      if (global[GLOBAL_KEY] === starting) delete global[GLOBAL_KEY];
    });
  }
  return global[GLOBAL_KEY];
}

export function installOrigin(origin: Origin): void {
  (globalThis as GlobalWithOrigin)[GLOBAL_KEY] = Promise.resolve(origin);
}
