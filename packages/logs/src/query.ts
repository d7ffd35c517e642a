/**
 * What both stores share about queries: the user's search text turned into terms (never into query
 * syntax), validation of filters, pages and new entries, opaque cursors, HTML-safe highlights, and an
 * in-memory matcher for live tails that agrees with the stores' full-text search.
 */
import { AppError } from '@zkha/core';
import {
  LEVEL_NUMBERS,
  isLogLevel,
  type LogEntry,
  type LogFields,
  type LogFilter,
  type LogSearchQuery,
  type NewLogEntry,
} from './types.ts';

export const MAX_SEARCH_LIMIT = 500;
/** Longer search text is cut: nobody types more, and it bounds the work one request can ask for. */
export const MAX_SEARCH_TEXT = 1000;
/** Same reasoning, for the number of terms. */
export const MAX_SEARCH_TERMS = 32;

/** One required term: a word or a phrase (several words that must follow each other). */
export interface SearchTerm {
  text: string;
  /** The last word of `text` may be the start of a longer word. */
  prefix: boolean;
}

/** Letters and digits are what both full-text engines index; a term without any can match nothing. */
const WORD_CHAR = /[\p{L}\p{N}]/u;

/**
 * Splits user text into terms. `"..."` groups a phrase (an unbalanced quote runs to the end), a
 * trailing `*` after a word or a phrase asks for a prefix. Everything else, including `-`, `:`, `(`,
 * `NEAR`, `AND`, is literal text: the result is only ever used as quoted phrases or plain match text,
 * so no input can become query syntax. Terms with no letter or digit are dropped.
 */
export function parseSearchText(text: string | undefined): SearchTerm[] {
  if (!text) return [];
  const input = text.slice(0, MAX_SEARCH_TEXT);
  const terms: SearchTerm[] = [];
  let i = 0;
  while (i < input.length && terms.length < MAX_SEARCH_TERMS) {
    const ch = input[i] as string;
    if (/\s/u.test(ch)) {
      i++;
      continue;
    }
    let body: string;
    if (ch === '"') {
      const close = input.indexOf('"', i + 1);
      const end = close === -1 ? input.length : close;
      body = input.slice(i + 1, end);
      i = close === -1 ? input.length : close + 1;
    } else {
      let end = i;
      while (end < input.length && !/\s/u.test(input[end] as string) && input[end] !== '"') end++;
      body = input.slice(i, end);
      i = end;
    }
    let prefix = false;
    if (input[i] === '*') {
      prefix = true;
      while (input[i] === '*') i++;
    }
    // `elect*` as a bare word: the stars are part of the word as typed.
    const stripped = body.replace(/\*+$/u, '');
    if (stripped.length !== body.length) prefix = true;
    const term = stripped.trim();
    if (WORD_CHAR.test(term)) terms.push({ text: term, prefix });
  }
  return terms;
}

/**
 * An FTS5 MATCH expression for the terms: each one a double-quoted string (inner quotes doubled, the
 * only escape FTS5 has), `*` after it for a prefix, joined by AND. Inside quotes FTS5 treats every
 * character as text for its tokenizer, so `NEAR(`, `a:b`, `-x` or `)` are just words or separators.
 */
export function ftsMatchExpression(terms: readonly SearchTerm[]): string {
  return terms.map((t) => `"${t.text.replaceAll('"', '""')}"${t.prefix ? '*' : ''}`).join(' AND ');
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * Marker characters the SQLite store asks highlight()/snippet() to put around matches. They are control
 * characters no log line needs, and `normalizeNewEntry` replaces them in messages, so after HTML
 * escaping they can be turned into tags and nothing else in the text can.
 */
export const MARK_OPEN = '\u0002';
export const MARK_CLOSE = '\u0003';
// eslint-disable-next-line no-control-regex -- the markers are control characters on purpose: log text cannot hold them
const MARKERS = /[\u0002\u0003]/g;

/** A highlight()/snippet() result made into HTML: escaped first, then our markers become `<mark>`. */
export function markedToHtml(marked: string): string {
  return escapeHtml(marked).replaceAll(MARK_OPEN, '<mark>').replaceAll(MARK_CLOSE, '</mark>');
}

// ---------------------------------------------------------------------------------------------
// Validation

/** A filter checked and reduced to what the stores compare: numbers and term lists. */
export interface NormalizedFilter {
  terms: SearchTerm[];
  minLevel: number | null;
  sources: string[] | null;
  fromMs: number | null;
  toMs: number | null;
}

function parseTime(value: string | undefined, name: string): number | null {
  if (value === undefined || value === '') return null;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new AppError('BAD_INPUT', `${name} is not a date: "${value}"`, { [name]: value });
  return ms;
}

export function normalizeFilter(filter: LogFilter = {}): NormalizedFilter {
  if (filter.level !== undefined && !isLogLevel(filter.level)) {
    throw new AppError('BAD_INPUT', `unknown level "${String(filter.level)}"`, { level: filter.level });
  }
  const sources = filter.sources && filter.sources.length > 0 ? [...new Set(filter.sources)] : null;
  if (sources?.some((s) => typeof s !== 'string')) throw new AppError('BAD_INPUT', 'sources must be strings');
  const fromMs = parseTime(filter.from, 'from');
  const toMs = parseTime(filter.to, 'to');
  return {
    terms: parseSearchText(filter.text),
    minLevel: filter.level ? LEVEL_NUMBERS[filter.level] : null,
    sources,
    fromMs,
    toMs,
  };
}

export interface NormalizedSearch extends NormalizedFilter {
  limit: number;
  /** Return only ids below this one (the cursor), or null for the newest page. */
  beforeId: number | null;
  withTotal: boolean;
}

export function normalizeSearchQuery(query: LogSearchQuery): NormalizedSearch {
  const { limit } = query;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_SEARCH_LIMIT) {
    throw new AppError('BAD_INPUT', `limit must be an integer in 1..${MAX_SEARCH_LIMIT}, got ${String(limit)}`, { limit });
  }
  return {
    ...normalizeFilter(query),
    limit,
    beforeId: query.cursor ? decodeCursor(query.cursor) : null,
    withTotal: query.withTotal === true,
  };
}

/** Longest stored message; a runaway line (a binary blob, a huge dump) must not bloat the index. */
export const MAX_MESSAGE_CHARS = 256 * 1024;

/** An entry checked and normalised for storage: ISO UTC time, no marker characters, bounded size. */
export function normalizeNewEntry(entry: NewLogEntry): {
  tsMs: number;
  levelNum: number;
  source: string;
  message: string;
  fields: LogFields | null;
} {
  if (!isLogLevel(entry.level)) throw new AppError('BAD_INPUT', `unknown level "${String(entry.level)}"`, { level: entry.level });
  const tsMs = Date.parse(entry.ts);
  if (Number.isNaN(tsMs)) throw new AppError('BAD_INPUT', `ts is not a date: "${entry.ts}"`, { ts: entry.ts });
  if (typeof entry.source !== 'string' || entry.source.length === 0) throw new AppError('BAD_INPUT', 'source must be a non-empty string');
  if (typeof entry.message !== 'string') throw new AppError('BAD_INPUT', 'message must be a string');
  const fields = entry.fields ?? null;
  if (fields !== null && (typeof fields !== 'object' || Array.isArray(fields)))
    throw new AppError('BAD_INPUT', 'fields must be a JSON object or null');
  let message = entry.message.replace(MARKERS, '\uFFFD');
  if (message.length > MAX_MESSAGE_CHARS) message = `${message.slice(0, MAX_MESSAGE_CHARS)}… [truncated]`;
  return { tsMs, levelNum: LEVEL_NUMBERS[entry.level], source: entry.source, message, fields };
}

// ---------------------------------------------------------------------------------------------
// Cursors

/**
 * Pages are "ids below the last one seen", which new entries (always higher ids) cannot shift. The
 * cursor is opaque to clients so that can change without breaking them.
 */
export function encodeCursor(id: number): string {
  return Buffer.from(`v1:${id}`).toString('base64url');
}

export function decodeCursor(cursor: string): number {
  const raw = typeof cursor === 'string' ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  const m = /^v1:(\d{1,15})$/.exec(raw);
  if (!m?.[1]) throw new AppError('BAD_INPUT', 'invalid cursor (pass back nextCursor unchanged)', { cursor });
  return Number(m[1]);
}

// ---------------------------------------------------------------------------------------------
// In-memory matching (live tails)

/**
 * Close to what unicode61 with remove_diacritics does (and Elasticsearch's standard analyzer):
 * fold case and accents, split on anything that is not a letter or a digit.
 */
export function tokenize(text: string): string[] {
  return text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((t) => t.length > 0);
}

function containsPhrase(haystack: readonly string[], phrase: readonly string[], prefix: boolean): boolean {
  if (phrase.length === 0) return false;
  const last = phrase.length - 1;
  outer: for (let i = 0; i + phrase.length <= haystack.length; i++) {
    for (let j = 0; j <= last; j++) {
      const word = haystack[i + j] as string;
      const want = phrase[j] as string;
      const matches = j === last && prefix ? word.startsWith(want) : word === want;
      if (!matches) continue outer;
    }
    return true;
  }
  return false;
}

/**
 * A predicate equal to the stores' filter, for entries that arrive through `onAppend`: same level,
 * source and time bounds, and the same terms matched against the message and the fields' JSON.
 */
export function compileFilter(filter: LogFilter = {}): (entry: LogEntry) => boolean {
  const f = normalizeFilter(filter);
  const sources = f.sources ? new Set(f.sources) : null;
  const phrases = f.terms.map((t) => ({ words: tokenize(t.text), prefix: t.prefix }));
  return (entry) => {
    if (f.minLevel !== null && LEVEL_NUMBERS[entry.level] < f.minLevel) return false;
    if (sources && !sources.has(entry.source)) return false;
    if (f.fromMs !== null || f.toMs !== null) {
      const ms = Date.parse(entry.ts);
      if (f.fromMs !== null && ms < f.fromMs) return false;
      if (f.toMs !== null && ms > f.toMs) return false;
    }
    if (phrases.length === 0) return true;
    const columns = [tokenize(entry.message), entry.fields ? tokenize(JSON.stringify(entry.fields)) : []];
    return phrases.every((p) => columns.some((words) => containsPhrase(words, p.words, p.prefix)));
  };
}
