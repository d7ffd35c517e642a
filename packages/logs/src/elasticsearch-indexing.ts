/**
 * What the Elasticsearch store writes: the mappings of its two indexes, the documents they hold, and
 * the `_bulk` request that adds entries and saves or drops tail positions in one round trip.
 */
import { createHash } from 'node:crypto';
import { AppError } from '@zkha/core';
import type { normalizeNewEntry } from './query.ts';
import { levelFromNumber, isLogLevel, type LogEntry, type TailOffset } from './types.ts';

/** The document shape in the index (snake_case, like the SQLite columns). */
export interface LogDoc {
  id: number;
  ts: string;
  level: string;
  level_num: number;
  source: string;
  message: string;
  fields: Record<string, unknown> | null;
  /** The fields as JSON text, so full-text search sees them (like the SQLite index); not kept in _source. */
  fields_text?: string;
}

/** A tail position's document in `<index>-offsets`. */
export interface OffsetDoc {
  path: string;
  file_id: string;
  offset: number;
  updated_at: string;
}

/** The `_bulk` answer: `errors` is set when any line failed, each item saying how its line went. */
export interface BulkResponse {
  errors?: boolean;
  items?: Record<string, { _id?: string; status?: number; error?: { type?: string; reason?: string } }>[];
}

/** Mappings of the entries' index. */
export const LOG_MAPPINGS = {
  // Strict: a typo in a document must fail loudly, not create a new field.
  dynamic: 'strict',
  // fields_text only feeds the index; keeping it in _source would store the fields twice.
  _source: { excludes: ['fields_text'] },
  properties: {
    id: { type: 'long' },
    ts: { type: 'date' },
    level: { type: 'keyword' },
    level_num: { type: 'byte' },
    source: { type: 'keyword' },
    message: { type: 'text' },
    // Arbitrary keys per line: stored, not mapped, so no mapping explosion.
    fields: { type: 'object', enabled: false },
    fields_text: { type: 'text' },
  },
} as const;

/** Mappings of the tail positions' index. */
export const OFFSET_MAPPINGS = {
  dynamic: 'strict',
  properties: {
    path: { type: 'keyword' },
    file_id: { type: 'keyword' },
    offset: { type: 'long' },
    updated_at: { type: 'date' },
  },
} as const;

/** A stored document read back as the entry it was written from. */
export function docToEntry(doc: LogDoc): LogEntry {
  return {
    id: doc.id,
    ts: new Date(doc.ts).toISOString(),
    level: isLogLevel(doc.level) ? doc.level : levelFromNumber(doc.level_num),
    source: doc.source,
    message: doc.message,
    fields: doc.fields ?? null,
  };
}

/** What one `append` writes, already checked and normalised. */
export interface BulkInput {
  index: string;
  offsetsIndex: string;
  /** The last id handed out; the entries take the ones after it. */
  lastId: number;
  rows: readonly ReturnType<typeof normalizeNewEntry>[];
  offsets: readonly TailOffset[];
  /** Paths whose saved positions go. */
  drops: readonly string[];
  /** The saved positions' `updated_at`. */
  at: string;
}

/** The `_bulk` request's NDJSON lines, the entries they store, and the last id they use. */
export function bulkLines(input: BulkInput): { lines: string[]; stored: LogEntry[]; lastId: number } {
  const lines: string[] = [];
  const stored: LogEntry[] = [];
  let id = input.lastId;
  for (const r of input.rows) {
    id++;
    const entry: LogEntry = {
      id,
      ts: new Date(r.tsMs).toISOString(),
      level: levelFromNumber(r.levelNum),
      source: r.source,
      message: r.message,
      fields: r.fields,
    };
    const doc: LogDoc = { ...entry, level_num: r.levelNum };
    if (r.fields) doc.fields_text = JSON.stringify(r.fields);
    lines.push(JSON.stringify({ index: { _index: input.index, _id: String(id) } }), JSON.stringify(doc));
    stored.push(entry);
  }
  for (const o of input.offsets) {
    const doc: OffsetDoc = { path: o.path, file_id: o.fileId, offset: o.offset, updated_at: input.at };
    lines.push(JSON.stringify({ index: { _index: input.offsetsIndex, _id: offsetDocId(o.path) } }), JSON.stringify(doc));
  }
  for (const p of input.drops) lines.push(JSON.stringify({ delete: { _index: input.offsetsIndex, _id: offsetDocId(p) } }));
  return { lines, stored, lastId: id };
}

/** Throws when `_bulk` rejected any of the `lineCount` lines it was sent. */
export function checkBulkResponse(body: BulkResponse, lineCount: number): void {
  if (body.errors) {
    const failed = (body.items ?? [])
      .map((item) => Object.values(item)[0])
      // Deleting an offset that was never saved is not a failure.
      .filter((r) => r?.error && r.status !== 404);
    if (failed.length > 0) {
      const first = failed[0]?.error;
      throw new AppError(
        'STORAGE_ERROR',
        `Elasticsearch rejected ${failed.length} of ${lineCount} bulk lines: ${first?.type ?? 'error'}: ${first?.reason ?? ''}`,
        {
          failed: failed.length,
        },
      );
    }
  }
}

/** Document ids are limited to 512 bytes and paths are not; a hash of the path fits any path. */
function offsetDocId(path: string): string {
  return createHash('sha256').update(path).digest('hex');
}
