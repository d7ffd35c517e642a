/**
 * The embedded log store: its own SQLite file (separate from the control plane's database, so heavy
 * log writes and retention never hold the lock the scheduler and API need), a `logs` table and an
 * external-content FTS5 index over it, kept in sync by triggers.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { AppError } from '@zkha/core';
import { encodeCursor, ftsMatchExpression, markedToHtml, normalizeFilter, normalizeNewEntry, normalizeSearchQuery } from './query.ts';
import { ENTRY_COLUMNS, filterSql, FTS_FROM, HIGHLIGHT_SQL, rowToEntry, type HitRow, type LogRow } from './sqlite-queries.ts';
import { migrateLogSchema } from './sqlite-schema.ts';
import {
  levelFromNumber,
  AppendListeners,
  type AppendListener,
  type AppendOptions,
  type LogEntry,
  type LogFilter,
  type LogSearchHit,
  type LogSearchQuery,
  type LogSearchResult,
  type LogStats,
  type LogStore,
  type NewLogEntry,
  type RetentionPolicy,
  type TailOffset,
} from './types.ts';

export interface SqliteLogStoreOptions {
  /** The database file (created with its folder), or ':memory:' for a private throwaway store. */
  path: string;
  /** How long a writer waits for another connection's lock before SQLITE_BUSY. Default 5000. */
  busyTimeoutMs?: number;
  /**
   * Rows removed by retention after which the FTS index is merged ('optimize') and freed pages are
   * returned to the file system. Default 20000; a retention pass that removes a quarter of the rows or
   * more always does it.
   */
  optimizeAfterDeletes?: number;
  /** Clock for age-based retention. Default Date.now. */
  now?: () => number;
}

/** Retention deletes in chunks so a big pass never holds the write lock for long. */
const DELETE_CHUNK = 5000;
const DEFAULT_LIMIT_SINCE = 500;

function isInMemory(path: string): boolean {
  return path === ':memory:' || path === '' || path.startsWith('file::memory:');
}

function checkLimit(value: number | undefined, name: string): void {
  if (value === undefined) return;
  if (!Number.isFinite(value) || value < 0) {
    throw new AppError('BAD_INPUT', `${name} must be a non-negative number, got ${String(value)}`, { [name]: value });
  }
}

/** The embedded default `LogStore`. Every call is synchronous SQLite work behind the async port. */
export class SqliteLogStore implements LogStore {
  readonly kind = 'sqlite' as const;
  readonly path: string;
  private readonly db: BetterSqlite3.Database;
  private readonly listeners = new AppendListeners();
  private readonly statements = new Map<string, BetterSqlite3.Statement>();
  private readonly now: () => number;
  private readonly optimizeAfterDeletes: number;
  private deletedSinceOptimize = 0;
  private readonly appendTx: (rows: ReturnType<typeof normalizeNewEntry>[], options: AppendOptions) => LogEntry[];

  constructor(options: SqliteLogStoreOptions) {
    this.path = options.path;
    this.now = options.now ?? Date.now;
    this.optimizeAfterDeletes = options.optimizeAfterDeletes ?? 20_000;
    if (!isInMemory(options.path)) mkdirSync(dirname(options.path), { recursive: true });
    this.db = new BetterSqlite3(options.path);
    try {
      // Must precede the first table: lets retention hand freed pages back (PRAGMA incremental_vacuum)
      // so the file shrinks, which is what a byte limit is for. No effect on an existing file.
      this.db.pragma('auto_vacuum = INCREMENTAL');
      // WAL: the API reads while the tailer writes. NORMAL: durable across process crashes; a power
      // loss can cost the last transactions, which the tailer then re-reads from the files.
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = NORMAL');
      this.db.pragma(`busy_timeout = ${Math.max(0, Math.trunc(options.busyTimeoutMs ?? 5000))}`);
      // 4 MB of page cache instead of better-sqlite3's 16 MB: searches and the tailer's appends touch a few pages,
      // and a full cache stayed resident in the server (as for the main database, packages/db/src/client.ts).
      this.db.pragma('cache_size = -4096');
      migrateLogSchema(this.db, this.path);
    } catch (err) {
      this.db.close();
      throw err;
    }

    const insert = this.db.prepare('INSERT INTO logs (ts, level, source, message, fields) VALUES (?, ?, ?, ?, ?)');
    const upsertOffset = this.db.prepare(
      `INSERT INTO tail_offsets (path, file_id, offset, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (path) DO UPDATE SET file_id = excluded.file_id, offset = excluded.offset, updated_at = excluded.updated_at`,
    );
    const deleteOffset = this.db.prepare('DELETE FROM tail_offsets WHERE path = ?');
    this.appendTx = this.db.transaction((rows: ReturnType<typeof normalizeNewEntry>[], opts: AppendOptions) => {
      const out: LogEntry[] = [];
      for (const r of rows) {
        const fieldsJson = r.fields === null ? null : JSON.stringify(r.fields);
        const info = insert.run(r.tsMs, r.levelNum, r.source, r.message, fieldsJson);
        out.push({
          id: Number(info.lastInsertRowid),
          ts: new Date(r.tsMs).toISOString(),
          level: levelFromNumber(r.levelNum),
          source: r.source,
          message: r.message,
          fields: r.fields,
        });
      }
      const at = this.now();
      for (const o of opts.offsets ?? []) upsertOffset.run(o.path, o.fileId, o.offset, at);
      for (const p of opts.dropOffsets ?? []) deleteOffset.run(p);
      return out;
    });
  }

  private stmt(sql: string): BetterSqlite3.Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  private assertOpen(): void {
    if (!this.db.open) throw new AppError('STORAGE_ERROR', `log store ${this.path} is closed`);
  }

  async append(entries: readonly NewLogEntry[], options: AppendOptions = {}): Promise<LogEntry[]> {
    return this.appendSync(entries, options);
  }

  /** `append` without the promise, for callers already on the SQLite thread of thought (bench, seeding). */
  appendSync(entries: readonly NewLogEntry[], options: AppendOptions = {}): LogEntry[] {
    this.assertOpen();
    // Validate everything first: a bad entry rejects the whole batch before anything is written.
    const rows = entries.map(normalizeNewEntry);
    if (rows.length === 0 && !options.offsets?.length && !options.dropOffsets?.length) return [];
    const stored = this.appendTx(rows, options);
    if (stored.length > 0) this.emit(stored);
    return stored;
  }

  private emit(entries: readonly LogEntry[]): void {
    this.listeners.emit(entries);
  }

  onAppend(listener: AppendListener): () => void {
    return this.listeners.add(listener);
  }

  async search(query: LogSearchQuery): Promise<LogSearchResult> {
    return this.searchSync(query);
  }

  searchSync(query: LogSearchQuery): LogSearchResult {
    this.assertOpen();
    const q = normalizeSearchQuery(query);
    const { where, params } = filterSql(q);
    const hasText = q.terms.length > 0;
    const pageWhere = [...where];
    const pageParams: Record<string, unknown> = { ...params, limit: q.limit };
    if (q.beforeId !== null) {
      pageWhere.push(hasText ? 'logs_fts.rowid < @beforeId' : 'l.id < @beforeId');
      pageParams.beforeId = q.beforeId;
    }
    let rows: HitRow[];
    if (hasText) {
      pageParams.match = ftsMatchExpression(q.terms);
      const sql =
        `SELECT ${ENTRY_COLUMNS}, ${HIGHLIGHT_SQL} FROM ${FTS_FROM} ` +
        `WHERE ${['logs_fts MATCH @match', ...pageWhere].join(' AND ')} ORDER BY logs_fts.rowid DESC LIMIT @limit`;
      rows = this.stmt(sql).all(pageParams) as HitRow[];
    } else {
      const sql =
        `SELECT ${ENTRY_COLUMNS}, NULL AS hl FROM logs AS l ` +
        `${pageWhere.length ? `WHERE ${pageWhere.join(' AND ')}` : ''} ORDER BY l.id DESC LIMIT @limit`;
      rows = this.stmt(sql).all(pageParams) as HitRow[];
    }
    const items: LogSearchHit[] = rows.map((r) => ({ ...rowToEntry(r), highlight: hasText ? markedToHtml(r.hl ?? r.message) : null }));
    const last = items[items.length - 1];
    const result: LogSearchResult = { items, nextCursor: items.length === q.limit && last ? encodeCursor(last.id) : null };
    if (q.withTotal) {
      const countParams = { ...params, ...(hasText ? { match: ftsMatchExpression(q.terms) } : {}) };
      const conditions = hasText ? ['logs_fts MATCH @match', ...where] : where;
      const sql = `SELECT count(*) AS n FROM ${hasText ? FTS_FROM : 'logs AS l'} ${conditions.length ? `WHERE ${conditions.join(' AND ')}` : ''}`;
      result.total = (this.stmt(sql).get(countParams) as { n: number }).n;
    }
    return result;
  }

  async latestId(): Promise<number> {
    this.assertOpen();
    const row = this.stmt("SELECT seq FROM sqlite_sequence WHERE name = 'logs'").get() as { seq: number } | undefined;
    return row?.seq ?? 0;
  }

  async since(afterId: number, filter: LogFilter = {}, limit = DEFAULT_LIMIT_SINCE): Promise<LogEntry[]> {
    this.assertOpen();
    if (!Number.isInteger(limit) || limit < 1) throw new AppError('BAD_INPUT', `limit must be a positive integer, got ${limit}`);
    const f = normalizeFilter(filter);
    const { where, params } = filterSql(f);
    const allParams: Record<string, unknown> = { ...params, afterId: Math.max(0, Math.trunc(afterId) || 0), limit };
    let sql: string;
    if (f.terms.length > 0) {
      allParams.match = ftsMatchExpression(f.terms);
      sql =
        `SELECT ${ENTRY_COLUMNS} FROM ${FTS_FROM} WHERE ${['logs_fts MATCH @match', 'logs_fts.rowid > @afterId', ...where].join(' AND ')} ` +
        'ORDER BY logs_fts.rowid ASC LIMIT @limit';
    } else {
      sql = `SELECT ${ENTRY_COLUMNS} FROM logs AS l WHERE ${['l.id > @afterId', ...where].join(' AND ')} ORDER BY l.id ASC LIMIT @limit`;
    }
    return (this.stmt(sql).all(allParams) as LogRow[]).map(rowToEntry);
  }

  /** Pages in use (the file minus its free list), so the figure drops as soon as retention frees space. */
  private usedBytes(): number {
    const pageSize = this.db.pragma('page_size', { simple: true }) as number;
    const pages = this.db.pragma('page_count', { simple: true }) as number;
    const free = this.db.pragma('freelist_count', { simple: true }) as number;
    return (pages - free) * pageSize;
  }

  private rowCount(): number {
    return (this.stmt('SELECT count(*) AS n FROM logs').get() as { n: number }).n;
  }

  async stats(): Promise<LogStats> {
    this.assertOpen();
    const r = this.stmt('SELECT min(ts) AS oldest, max(ts) AS newest FROM logs').get() as { oldest: number | null; newest: number | null };
    return {
      rows: this.rowCount(),
      bytes: this.usedBytes(),
      oldest: r.oldest === null ? null : new Date(r.oldest).toISOString(),
      newest: r.newest === null ? null : new Date(r.newest).toISOString(),
    };
  }

  /** Deletes in chunks (each its own transaction) and returns how many rows went. */
  private deleteChunked(condition: string, value: number): number {
    const del = this.stmt(`DELETE FROM logs WHERE id IN (SELECT id FROM logs WHERE ${condition} ORDER BY id LIMIT ${DELETE_CHUNK})`);
    let total = 0;
    for (;;) {
      const { changes } = del.run(value);
      total += changes;
      if (changes < DELETE_CHUNK) return total;
    }
  }

  /** Deletes the oldest rows (lowest ids) so that at most `keep` remain. */
  private keepNewest(keep: number): number {
    const rows = this.rowCount();
    const excess = rows - Math.max(0, Math.floor(keep));
    if (excess <= 0) return 0;
    const cutoff = this.stmt('SELECT id FROM logs ORDER BY id LIMIT 1 OFFSET ?').get(excess - 1) as { id: number } | undefined;
    return cutoff ? this.deleteChunked('id <= ?', cutoff.id) : 0;
  }

  async applyRetention(policy: RetentionPolicy): Promise<number> {
    this.assertOpen();
    checkLimit(policy.maxAgeMs, 'maxAgeMs');
    checkLimit(policy.maxRows, 'maxRows');
    checkLimit(policy.maxBytes, 'maxBytes');
    const rowsBefore = this.rowCount();
    let removed = 0;
    if (policy.maxAgeMs !== undefined) removed += this.deleteChunked('ts < ?', this.now() - policy.maxAgeMs);
    if (policy.maxRows !== undefined) removed += this.keepNewest(policy.maxRows);
    if (removed > 0) this.maybeOptimize(removed, rowsBefore);
    if (policy.maxBytes !== undefined) {
      // Bytes per row is only known on average, and an FTS index gives space back only when its
      // segments are merged: remove a proportional share, compact, measure again (a few rounds at most).
      for (let round = 0; round < 4; round++) {
        const used = this.usedBytes();
        const rows = this.rowCount();
        if (used <= policy.maxBytes || rows === 0) break;
        const n = this.keepNewest(Math.floor((rows * policy.maxBytes) / used));
        removed += n;
        this.optimize();
        if (n === 0) break;
      }
    }
    return removed;
  }

  /** Merging a large FTS index costs seconds: only after enough deletes to be worth it. */
  private maybeOptimize(removed: number, rowsBefore: number): void {
    this.deletedSinceOptimize += removed;
    if (this.deletedSinceOptimize >= this.optimizeAfterDeletes || removed * 4 >= rowsBefore) this.optimize();
  }

  /**
   * Merges the FTS segments (dropping the deleted entries' postings for good), returns free pages to
   * the file system and refreshes the query planner's statistics.
   */
  optimize(): void {
    this.assertOpen();
    this.db.exec("INSERT INTO logs_fts (logs_fts) VALUES ('optimize')");
    this.db.pragma('incremental_vacuum');
    this.db.pragma('optimize');
    this.deletedSinceOptimize = 0;
  }

  async tailOffsets(): Promise<TailOffset[]> {
    this.assertOpen();
    const rows = this.stmt('SELECT path, file_id, offset FROM tail_offsets ORDER BY path').all() as {
      path: string;
      file_id: string;
      offset: number;
    }[];
    return rows.map((r) => ({ path: r.path, fileId: r.file_id, offset: r.offset }));
  }

  async close(): Promise<void> {
    this.listeners.clear();
    if (!this.db.open) return;
    try {
      this.db.pragma('optimize');
    } finally {
      this.db.close();
    }
  }
}
