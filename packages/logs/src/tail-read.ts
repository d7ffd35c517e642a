/**
 * The tailer's read step: takes a followed file from its position up to a given size, cuts the bytes
 * into lines, groups them into events with the file's parser, and stores the events together with the
 * new position. What may be unfinished (a partial last line, a last event whose stack trace may still
 * be arriving) is left for a later read, once the file has been still for `settleMs`.
 */
import type { FileHandle } from 'node:fs/promises';
import { groupLines, type RawLine } from './parsers.ts';
import { HEAD_BYTES, fileIdOf, hashHead, readAt, type FileState } from './tailed-file.ts';
import type { LogStore, NewLogEntry, TailOffset } from './types.ts';

const NEWLINE = 0x0a;

/** The tailer's settings the read step works with (see `LogTailerOptions`). */
export interface ReadSettings {
  store: LogStore;
  settleMs: number;
  maxReadBytes: number;
  now: () => number;
}

/**
 * Reads `state`'s file from its position up to `size`, stores the entries with the new position, and
 * updates `state` as each batch commits. `final` (a rotated-away file) takes everything, now.
 */
export async function readIntoStore(
  state: FileState,
  fh: FileHandle,
  size: number,
  final: boolean,
  dropOffsets: string[],
  settings: ReadSettings,
): Promise<void> {
  const { store, settleMs, maxReadBytes, now } = settings;
  if (size < state.offset) {
    // Truncated in place (copytruncate, `> file`): the content before the position is gone.
    state.offset = 0;
    state.headLen = 0;
    state.headHash = hashHead(Buffer.alloc(0));
  }
  let drops = dropOffsets;
  for (;;) {
    const remaining = size - state.offset;
    const toRead = Math.min(maxReadBytes, remaining);
    const atEnd = toRead === remaining;
    const settled = final || (atEnd && now() - state.lastGrowthAt >= settleMs);
    const buf = toRead > 0 ? await readAt(fh, state.offset, toRead) : Buffer.alloc(0);
    const base = state.offset;

    const lines: RawLine[] = [];
    let lineStart = 0;
    for (let i = buf.indexOf(NEWLINE); i !== -1; i = buf.indexOf(NEWLINE, lineStart)) {
      lines.push({ text: buf.toString('utf8', lineStart, i), start: base + lineStart, end: base + i + 1 });
      lineStart = i + 1;
    }
    const partial = lineStart < buf.length;
    // A partial last line is taken when the file is settled, or when a whole chunk has no newline
    // at all (a line longer than maxReadBytes would otherwise block the file forever).
    const forced = lines.length === 0 && buf.length === maxReadBytes;
    if (partial && (settled || forced)) {
      lines.push({ text: buf.toString('utf8', lineStart), start: base + lineStart, end: base + buf.length });
    }
    const consumedEnd = lines.length > 0 ? (lines[lines.length - 1] as RawLine).end : base;
    const records = groupLines(state.spec.format, lines, state.spec.source(state.path), now());

    let take = records;
    let newOffset = consumedEnd;
    const last = records[records.length - 1];
    // The last event may still grow (more stack trace lines): keep it for later, unless the file is
    // settled, or keeping it would make no progress on a full chunk.
    if (!settled && last && !(last.start === base && buf.length === maxReadBytes)) {
      take = records.slice(0, -1);
      newOffset = last.start;
    }

    if (newOffset > state.offset && state.headLen < Math.min(HEAD_BYTES, newOffset)) {
      // Bytes before the position never change in an append-only file: hash them once, grow to HEAD_BYTES.
      const headLen = Math.min(HEAD_BYTES, newOffset);
      state.headHash = hashHead(await readAt(fh, 0, headLen));
      state.headLen = headLen;
    }
    const id = fileIdOf(state);
    const needsSave = newOffset !== state.savedOffset || id !== state.savedId;
    if (take.length > 0 || (needsSave && newOffset >= state.offset) || drops.length > 0) {
      const offsets: TailOffset[] = final ? [] : [{ path: state.path, fileId: id, offset: newOffset }];
      const entries: NewLogEntry[] = take.map((r) => r.entry);
      await store.append(entries, { offsets, dropOffsets: drops });
      drops = [];
      if (!final) {
        state.savedId = id;
        state.savedOffset = newOffset;
      }
    }
    const progressed = newOffset > state.offset;
    state.offset = newOffset;
    if (!progressed || state.offset >= size) break;
  }
}
