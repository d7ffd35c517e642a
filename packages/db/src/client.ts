import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import BetterSqlite3 from 'better-sqlite3';
import type { RunResult } from 'better-sqlite3';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import type { BaseSQLiteDatabase } from 'drizzle-orm/sqlite-core';
import * as schema from './schema.ts';

/**
 * What every repository function takes: the Drizzle database or a transaction opened on it, so callers
 * can group several repository calls into one `db.transaction(tx => ...)`.
 */
export type Db = BaseSQLiteDatabase<'sync', RunResult, typeof schema>;

/** An open database: the Drizzle handle for queries, the raw handle for pragmas/backups, and close(). */
export interface Database {
  db: BetterSQLite3Database<typeof schema>;
  sqlite: BetterSqlite3.Database;
  readonly close: () => void;
}

export interface CreateDbOptions {
  /** How long a writer waits on a lock held by another connection before SQLITE_BUSY. */
  busyTimeoutMs?: number;
}

// Resolved from this module, not from process.cwd(), so the server, tests and scripts started from any
// folder all find the checked-in migrations.
export const MIGRATIONS_FOLDER = fileURLToPath(new URL('../migrations', import.meta.url));

function isInMemory(path: string): boolean {
  return path === ':memory:' || path === '' || path.startsWith('file::memory:');
}

/**
 * Opens (creating if needed) the SQLite file at `path`, tunes it for a single-process server with
 * concurrent readers, and brings its schema up to date. `':memory:'` gives a private throwaway database.
 */
export function createDb(path: string, options: CreateDbOptions = {}): Database {
  if (!isInMemory(path)) mkdirSync(dirname(path), { recursive: true });
  const sqlite = new BetterSqlite3(path);
  try {
    // WAL lets the API read while the scheduler writes; NORMAL is durable across process crashes in WAL
    // mode and only risks the last transactions on power loss, which is fine for an operations log.
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma(`busy_timeout = ${Math.max(0, Math.trunc(options.busyTimeoutMs ?? 5000))}`);
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('synchronous = NORMAL');
    // better-sqlite3 builds SQLite with a 16 MB page cache per connection. It fills once the file index is loaded
    // (a scan of every row) and stays: 4 MB serves the queries of a running server (the operating system caches
    // the file as well), and was ~12 MB less resident memory with 100,000 files (bench/server-rss).
    sqlite.pragma('cache_size = -4096');
    const db = drizzle(sqlite, { schema });
    migrate(db, { migrationsFolder: MIGRATIONS_FOLDER });
    return {
      db,
      sqlite,
      close() {
        if (sqlite.open) sqlite.close();
      },
    };
  } catch (err) {
    sqlite.close();
    throw err;
  }
}
