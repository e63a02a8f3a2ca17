// A Hocuspocus server as a user would write one from its docs: @hocuspocus/server
// with @hocuspocus/extension-database storing each document's whole Yjs state
// in one Postgres row, and, when HOCUSPOCUS_REDIS_PREFIX is set,
// @hocuspocus/extension-redis so that several such processes serve one page.
// Debounce settings are Hocuspocus's defaults (2,000 ms, at most 10,000 ms):
// the bench compares systems as shipped. No authentication: the bench's
// clients are trusted (Weirwood's edges do verify a token per connection).
//
//   DATABASE_URL=postgres://... [HOCUSPOCUS_REDIS_PREFIX=p REDIS_URL=redis://127.0.0.1:6379] \
//   node --import tsx e2e/peers/hocuspocus-server.ts
//
// Prints {"event":"hocuspocus-ready","url":"ws://127.0.0.1:PORT"} once it listens.
import { Database } from "@hocuspocus/extension-database";
import { Redis } from "@hocuspocus/extension-redis";
import { type Extension, Server } from "@hocuspocus/server";
import pg from "pg";
import { DOCUMENTS_TABLE_SQL, fetchDocumentState, storeDocumentState } from "./hocuspocus-store";

const databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) throw new Error("hocuspocus-server: DATABASE_URL is required (postgres://user@host:port/database)");
const redisPrefix = process.env.HOCUSPOCUS_REDIS_PREFIX;
const redisUrl = new URL(process.env.REDIS_URL ?? "redis://127.0.0.1:6379");

const pool = new pg.Pool({ connectionString: databaseUrl, max: 4 });
await pool.query(DOCUMENTS_TABLE_SQL);

const extensions: Extension[] = [
  new Database({
    fetch: ({ documentName }) => fetchDocumentState(pool, documentName),
    store: ({ documentName, state }) => storeDocumentState(pool, documentName, state),
  }),
];
if (redisPrefix) {
  extensions.push(new Redis({ host: redisUrl.hostname, port: Number(redisUrl.port || 6379), prefix: redisPrefix }));
}

// HOCUSPOCUS_PERSIST_MS sets debounce and maxDebounce both, for a side by
// side at an equal persist interval; unset, Hocuspocus's defaults apply.
const persistMs = process.env.HOCUSPOCUS_PERSIST_MS ? Number(process.env.HOCUSPOCUS_PERSIST_MS) : undefined;
const server = new Server({
  address: "127.0.0.1",
  port: Number(process.env.PORT ?? 0),
  quiet: true,
  stopOnSignals: true,
  extensions,
  ...(persistMs ? { debounce: persistMs, maxDebounce: persistMs } : {}),
});
await server.listen();
console.log(JSON.stringify({ event: "hocuspocus-ready", url: `ws://127.0.0.1:${server.address.port}`, pid: process.pid }));
