/**
 * The log pipeline's domain types and its storage port. Both adapters (SQLite FTS5, Elasticsearch)
 * implement `LogStore`; the tailer, the API and the live tail only ever see this interface.
 */

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * pino's level numbers. Stores keep the number, not the name, so "at least warn" is one range
 * comparison an index can serve.
 */
export const LEVEL_NUMBERS: Readonly<Record<LogLevel, number>> = {
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  fatal: 60,
};

export function isLogLevel(value: unknown): value is LogLevel {
  return typeof value === 'string' && (LOG_LEVELS as readonly string[]).includes(value);
}

/**
 * The level whose number is the highest not above `n` (pino custom levels such as 35 count as
 * info); below trace is trace.
 */
export function levelFromNumber(n: number): LogLevel {
  let found: LogLevel = 'trace';
  for (const level of LOG_LEVELS) if (n >= LEVEL_NUMBERS[level]) found = level;
  return found;
}

/** A JSON object: the structured part of a log line (pino's extra keys, log4j's thread and class...). */
export type LogFields = Record<string, unknown>;

export interface LogEntry {
  /** Assigned by the store, increasing in append order and never reused (cursors and tails rely on it). */
  id: number;
  /** ISO 8601, UTC (`2026-11-22T00:56:30.523Z`). */
  ts: string;
  level: LogLevel;
  /** Where the line came from: 'backend', a ZooKeeper node ('zk1'), a node's agent ('agent:zk1'). */
  source: string;
  message: string;
  fields: LogFields | null;
}

/** What a writer hands to `append`: an entry before the store gives it an id. */
export interface NewLogEntry {
  /** Anything `Date.parse` reads; stored normalised to ISO UTC. */
  ts: string;
  level: LogLevel;
  source: string;
  message: string;
  fields?: LogFields | null;
}

/** The conditions shared by searches, backfills and live tails. */
export interface LogFilter {
  /**
   * Words and "quoted phrases", all required; a trailing `*` makes a word a prefix. Every other
   * character is literal text, never query syntax. Empty or punctuation-only text means no text condition.
   */
  text?: string;
  /** Minimum severity: 'warn' returns warn, error and fatal. */
  level?: LogLevel;
  /** Only these sources; undefined or empty means every source. */
  sources?: readonly string[];
  /** Inclusive bounds on `ts`, anything `Date.parse` reads. */
  from?: string;
  to?: string;
}

export interface LogSearchQuery extends LogFilter {
  /** Page size, 1..500. */
  limit: number;
  /** `nextCursor` of the previous page; absent for the newest page. */
  cursor?: string | null;
  /** Also count every match (costs a second query on large stores, so only on request). */
  withTotal?: boolean;
}

export type LogSearchHit = LogEntry & {
  /**
   * The message as HTML: escaped, with each match wrapped in `<mark>`…`</mark>` (a long message is cut
   * to a snippet around the matches). Null when the search had no text.
   */
  highlight: string | null;
};

export interface LogSearchResult {
  /** Newest first. */
  items: LogSearchHit[];
  /** Opaque; pass back as `cursor` for the next (older) page. Null on the last page. */
  nextCursor: string | null;
  /** Every match of the query, when `withTotal` was asked. */
  total?: number;
}

export interface LogStats {
  rows: number;
  /** Storage used by the logs, indexes included. */
  bytes: number;
  /** ISO timestamps of the oldest and newest entry, null when empty. */
  oldest: string | null;
  newest: string | null;
}

/** Each limit is optional; the oldest entries go first. */
export interface RetentionPolicy {
  /** Entries with `ts` older than now - maxAgeMs. */
  maxAgeMs?: number;
  /** Keep at most this many entries (the newest). */
  maxRows?: number;
  /** Keep the store under about this many bytes (the figure `stats().bytes` reports). */
  maxBytes?: number;
}

/**
 * Where the tailer stands in one file. `fileId` identifies the file's content, not its name (device,
 * inode and a hash of its first bytes), so a rotated or recreated file is recognised as such.
 */
export interface TailOffset {
  path: string;
  fileId: string;
  /** Bytes consumed, always at a line boundary. */
  offset: number;
}

export interface AppendOptions {
  /**
   * Tail positions to save with the entries. The SQLite store writes both in one transaction, so
   * after a crash a file is neither re-ingested nor skipped.
   */
  offsets?: readonly TailOffset[];
  /** Tail positions to forget (files that were rotated away or deleted). */
  dropOffsets?: readonly string[];
}

export type AppendListener = (entries: readonly LogEntry[]) => void;

/** The log storage port. */
export interface LogStore {
  readonly kind: 'sqlite' | 'elasticsearch';
  /** Stores entries in order and returns them with their ids; `onAppend` listeners hear them after commit. */
  append(entries: readonly NewLogEntry[], options?: AppendOptions): Promise<LogEntry[]>;
  /** Newest first, by cursor pages. Throws AppError('BAD_INPUT') for a bad limit, date, level or cursor. */
  search(query: LogSearchQuery): Promise<LogSearchResult>;
  /**
   * Calls `listener` with every batch this store commits, until the returned function is called. A
   * live tail attaches here before backfilling with `since`, so nothing falls between the two.
   */
  onAppend(listener: AppendListener): () => void;
  /** The highest id ever assigned (0 before the first append), even if retention removed that entry. */
  latestId(): Promise<number>;
  /** Entries with id > afterId that match the filter, oldest first, at most `limit` (default 500). */
  since(afterId: number, filter?: LogFilter, limit?: number): Promise<LogEntry[]>;
  stats(): Promise<LogStats>;
  /** Deletes what the policy excludes and returns how many entries went. */
  applyRetention(policy: RetentionPolicy): Promise<number>;
  /** The tail positions saved through `append`. */
  tailOffsets(): Promise<TailOffset[]>;
  close(): Promise<void>;
}

/** The `onAppend` subscribers of a store: one bad subscriber never fails the writer nor starves the others. */
export class AppendListeners {
  private readonly listeners = new Set<AppendListener>();

  add(listener: AppendListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  emit(entries: readonly LogEntry[]): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(entries);
      } catch {
        // A subscriber's bug must not fail the writer, nor starve the other subscribers.
      }
    }
  }

  clear(): void {
    this.listeners.clear();
  }
}
