/**
 * Line formats of the files zkha writes or runs: pino JSON (the backend), ZooKeeper's log4j/logback
 * pattern (`%d{ISO8601} [myid:%X{myid}] - %-5p [%t:%C{1}@%L] - %m%n`, see @zkha/zk-local's config-files.ts) and
 * plain text (the storage agents' stdout). Multi-line events (Java stack traces, indented Node traces)
 * become one entry.
 */
import { isLogLevel, levelFromNumber, type LogFields, type LogLevel, type NewLogEntry } from './types.ts';

export const LOG_FORMATS = ['pino', 'log4j', 'plain'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** pino's own keys; everything else on a line is the caller's structured data. */
const PINO_KEYS = new Set(['level', 'time', 'msg']);

/** A pino JSON line as an entry; null when the line is not a JSON object. */
export function parsePinoLine(line: string, source: string, now: number = Date.now()): NewLogEntry | null {
  const trimmed = line.trim();
  if (!trimmed.startsWith('{')) return null;
  let obj: unknown;
  try {
    obj = JSON.parse(trimmed);
  } catch {
    return null;
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return null;
  const rec = obj as Record<string, unknown>;
  let level: LogLevel = 'info';
  // Numbers by default; labels when the logger uses formatters.level.
  if (typeof rec.level === 'number') level = levelFromNumber(rec.level);
  else if (typeof rec.level === 'string' && isLogLevel(rec.level)) level = rec.level;
  let tsMs = now;
  // Epoch ms by default; an ISO string with pino.stdTimeFunctions.isoTime.
  if (typeof rec.time === 'number' && Number.isFinite(rec.time)) tsMs = rec.time;
  else if (typeof rec.time === 'string' && !Number.isNaN(Date.parse(rec.time))) tsMs = Date.parse(rec.time);
  let message = typeof rec.msg === 'string' ? rec.msg : '';
  const err = rec.err as { message?: unknown } | undefined;
  if (!message && typeof err?.message === 'string') message = err.message;
  const fields: LogFields = {};
  for (const [k, v] of Object.entries(rec)) if (!PINO_KEYS.has(k)) fields[k] = v;
  return { ts: new Date(tsMs).toISOString(), level, source, message, fields: Object.keys(fields).length > 0 ? fields : null };
}

/**
 * `2026-11-22 00:56:30,523 [myid:1] - INFO  [QuorumPeer[myid=1](plain=...)(secure=disabled):Leader@...] - msg`.
 * Thread names hold brackets themselves, so the thread/location group ends at the first `] - `.
 */
const LOG4J_HEADER =
  /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})[,.](\d{3})(?: \[myid:(\d*)\])? - (TRACE|DEBUG|INFO|WARN|ERROR|FATAL)\s+\[(.*?)\] - (.*)$/;
/** `thread:Class@line`; the thread part may itself contain colons. */
const LOG4J_LOCATION = /^(.*):([^:@\s]+)@(\d+|\?)$/;

/**
 * A log4j header line as an entry, or null for anything else (a stack trace line, a wrapped message).
 * The timestamp has no zone: it is the JVM's local time, and the JVMs run on this machine, so it is
 * read as this process's local time.
 */
export function parseLog4jLine(line: string, source: string): NewLogEntry | null {
  const m = LOG4J_HEADER.exec(line);
  if (!m) return null;
  const [, y, mo, d, h, mi, s, ms, myid, levelName, location, message] = m;
  const date = new Date(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), Number(ms));
  if (Number.isNaN(date.getTime())) return null;
  const fields: LogFields = {};
  if (myid !== undefined && myid !== '') fields.myid = Number(myid);
  const loc = LOG4J_LOCATION.exec(location ?? '');
  if (loc) {
    fields.thread = loc[1];
    fields.logger = loc[2];
    if (loc[3] !== '?') fields.line = Number(loc[3]);
  } else if (location) {
    fields.thread = location;
  }
  return {
    ts: date.toISOString(),
    level: (levelName ?? 'INFO').toLowerCase() as LogLevel,
    source,
    message: message ?? '',
    fields: Object.keys(fields).length > 0 ? fields : null,
  };
}

const PLAIN_TIMESTAMP = /^(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d{1,9})?(?:Z|[+-]\d{2}:?\d{2})?)\s+(.*)$/;
const PLAIN_LEVEL = /^\[?(TRACE|DEBUG|INFO|WARN|WARNING|ERROR|FATAL)\]?[:\s]\s*(.*)$/;

/**
 * A plain line: info, stamped `now` (when it was read), unless it starts with an ISO timestamp and/or
 * an upper-case level word, which are then taken from the line.
 */
export function parsePlainLine(line: string, source: string, now: number = Date.now()): NewLogEntry {
  let rest = line;
  let tsMs = now;
  const t = PLAIN_TIMESTAMP.exec(rest);
  if (t?.[1] !== undefined && t[2] !== undefined) {
    const parsed = Date.parse(t[1].replace(',', '.').replace(' ', 'T'));
    if (!Number.isNaN(parsed)) {
      tsMs = parsed;
      rest = t[2];
    }
  }
  let level: LogLevel = 'info';
  const l = PLAIN_LEVEL.exec(rest);
  if (l?.[1] !== undefined && l[2] !== undefined) {
    const word = l[1].toLowerCase();
    level = word === 'warning' ? 'warn' : (word as LogLevel);
    rest = l[2];
  }
  return { ts: new Date(tsMs).toISOString(), level, source, message: rest, fields: null };
}

/** One complete line of a file, with its byte range (end is just after the newline). */
export interface RawLine {
  text: string;
  start: number;
  end: number;
}

/** One entry and the bytes it came from. */
export interface ParsedRecord {
  entry: NewLogEntry;
  start: number;
  end: number;
}

/** Longest message a multi-line event can build up; a runaway trace must not become one huge row. */
const MAX_GROUPED_CHARS = 64 * 1024;

/**
 * Turns lines into entries. A log4j line that is not a header continues the previous entry (stack
 * traces); in pino and plain files an indented line does (Node's `    at ...`). A continuation with
 * nothing before it (the read started mid-event) becomes an entry of its own. Blank lines are skipped.
 */
export function groupLines(format: LogFormat, lines: readonly RawLine[], source: string, now: number = Date.now()): ParsedRecord[] {
  const out: ParsedRecord[] = [];
  let current: ParsedRecord | null = null;
  for (const line of lines) {
    const text = line.text.endsWith('\r') ? line.text.slice(0, -1) : line.text;
    if (text.trim() === '') {
      if (current) current.end = line.end;
      continue;
    }
    let start: NewLogEntry | null;
    switch (format) {
      case 'log4j':
        start = parseLog4jLine(text, source);
        break;
      case 'pino':
        start = parsePinoLine(text, source, now) ?? (/^\s/.test(text) ? null : parsePlainLine(text, source, now));
        break;
      case 'plain':
        start = /^\s/.test(text) ? null : parsePlainLine(text, source, now);
        break;
    }
    if (start === null && current) {
      if (current.entry.message.length < MAX_GROUPED_CHARS) current.entry.message += `\n${text}`;
      current.end = line.end;
      continue;
    }
    current = { entry: start ?? parsePlainLine(text, source, now), start: line.start, end: line.end };
    out.push(current);
  }
  return out;
}
