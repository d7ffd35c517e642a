/** The SQL the log store's reads share: filter conditions, the entry columns, highlights, and rows as entries. */
import type { NormalizedFilter } from './query.ts';
import { levelFromNumber, type LogEntry } from './types.ts';

/** Messages up to this length are highlighted whole; longer ones (stack traces) become a snippet. */
const HIGHLIGHT_WHOLE_MAX_CHARS = 2000;
/** snippet()'s largest allowed token count. */
const SNIPPET_TOKENS = 64;

/** A `logs` row as SQLite returns it. */
export interface LogRow {
  id: number;
  ts: number;
  level: number;
  source: string;
  message: string;
  fields: string | null;
}

/** A search hit's row: the entry and its highlighted message (null without search terms). */
export type HitRow = LogRow & { hl: string | null };

export function rowToEntry(row: LogRow): LogEntry {
  return {
    id: row.id,
    ts: new Date(row.ts).toISOString(),
    level: levelFromNumber(row.level),
    source: row.source,
    message: row.message,
    fields: row.fields === null ? null : (JSON.parse(row.fields) as Record<string, unknown>),
  };
}

/** SQL conditions and parameters for a filter, over the `logs` table aliased `l`. */
export function filterSql(f: NormalizedFilter): { where: string[]; params: Record<string, unknown> } {
  const where: string[] = [];
  const params: Record<string, unknown> = {};
  if (f.minLevel !== null) {
    where.push('l.level >= @minLevel');
    params.minLevel = f.minLevel;
  }
  if (f.sources?.length === 1) {
    // Equality (rather than IN) lets the (source, id) index return rows already in id order.
    where.push('l.source = @source');
    params.source = f.sources[0];
  } else if (f.sources) {
    // One parameter for any number of sources keeps the statement cache small.
    where.push('l.source IN (SELECT value FROM json_each(@sources))');
    params.sources = JSON.stringify(f.sources);
  }
  if (f.fromMs !== null) {
    where.push('l.ts >= @fromMs');
    params.fromMs = f.fromMs;
  }
  if (f.toMs !== null) {
    where.push('l.ts <= @toMs');
    params.toMs = f.toMs;
  }
  return { where, params };
}

export const ENTRY_COLUMNS = 'l.id, l.ts, l.level, l.source, l.message, l.fields';
// Markers, not tags: the message is HTML-escaped after highlighting, then the markers become <mark>.
export const HIGHLIGHT_SQL =
  `CASE WHEN length(l.message) <= ${HIGHLIGHT_WHOLE_MAX_CHARS} ` +
  `THEN highlight(logs_fts, 0, char(2), char(3)) ` +
  `ELSE snippet(logs_fts, 0, char(2), char(3), '…', ${SNIPPET_TOKENS}) END AS hl`;
// FTS first (CROSS JOIN fixes the order): it yields matching rowids newest first, and the row lookups
// stop at the page size.
export const FTS_FROM = 'logs_fts CROSS JOIN logs AS l ON l.id = logs_fts.rowid';
