/** The log store's schema: its versions, and their application to a store's file. */
import type BetterSqlite3 from 'better-sqlite3';
import { AppError } from '@zkha/core';

/**
 * Schema versions, applied in order and tracked in `PRAGMA user_version`. The store owns its file,
 * so it needs no migration tool of its own.
 */
const MIGRATIONS: readonly string[] = [
  `
  -- AUTOINCREMENT: ids are never reused, even when retention empties the table, because cursors and
  -- live tails (since(lastId)) assume a newer entry always has a higher id.
  CREATE TABLE logs (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    ts      INTEGER NOT NULL,           -- epoch ms (compact, and range scans compare integers)
    level   INTEGER NOT NULL,           -- pino numbers: 10 trace .. 60 fatal
    source  TEXT    NOT NULL,
    message TEXT    NOT NULL,
    fields  TEXT                        -- JSON object or NULL
  );
  CREATE INDEX logs_ts ON logs (ts);
  -- (x, id): a single-source or single-level page walks the index already in id order.
  CREATE INDEX logs_source_id ON logs (source, id);
  CREATE INDEX logs_level_id ON logs (level, id);

  -- External content: the text lives once, in logs; the index refers to it by rowid. unicode61 folds
  -- case and accents; no stemming, because log searches are for exact identifiers (LOOKING, zxid...).
  CREATE VIRTUAL TABLE logs_fts USING fts5(
    message, fields,
    content = 'logs', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
  );
  CREATE TRIGGER logs_fts_insert AFTER INSERT ON logs BEGIN
    INSERT INTO logs_fts (rowid, message, fields) VALUES (new.id, new.message, new.fields);
  END;
  -- An external-content index must be told the old values to remove them.
  CREATE TRIGGER logs_fts_delete AFTER DELETE ON logs BEGIN
    INSERT INTO logs_fts (logs_fts, rowid, message, fields) VALUES ('delete', old.id, old.message, old.fields);
  END;
  CREATE TRIGGER logs_fts_update AFTER UPDATE ON logs BEGIN
    INSERT INTO logs_fts (logs_fts, rowid, message, fields) VALUES ('delete', old.id, old.message, old.fields);
    INSERT INTO logs_fts (rowid, message, fields) VALUES (new.id, new.message, new.fields);
  END;

  -- Where the tailer stands in each file; written in the same transaction as the entries it read.
  CREATE TABLE tail_offsets (
    path       TEXT PRIMARY KEY,
    file_id    TEXT    NOT NULL,
    offset     INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  `,
];

/** Brings the file at `path` to the newest schema version; refuses a file written by a newer build. */
export function migrateLogSchema(db: BetterSqlite3.Database, path: string): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > MIGRATIONS.length) {
    throw new AppError('STORAGE_ERROR', `${path} has log schema v${version}, newer than this build (v${MIGRATIONS.length})`);
  }
  for (let v = version; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v] as string);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}
