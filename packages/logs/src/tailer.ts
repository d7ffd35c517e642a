/**
 * Follows log files and feeds their new lines to a `LogStore`.
 *
 * - Positions are saved in the store with the entries they cover (one transaction in SQLite), so a
 *   restart resumes exactly where the last run stopped.
 * - A file is known by its content, not its name: device + inode + a hash of its first bytes. A file
 *   renamed by rotation keeps its position under its new name (or is read to its end once if the new
 *   name is not followed); a truncated or recreated file is read from the start.
 * - A trailing partial line, and the last event of a batch (a stack trace may still be arriving), wait
 *   until the file has been still for `settleMs`, so multi-line events are never cut in two.
 * - fs.watch only hints that something changed (it misses events on some file systems and across
 *   renames); a polling interval is what guarantees progress.
 */
import fs, { type FileHandle } from 'node:fs/promises';
import { watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import { expandPattern, patternMatches } from './glob.ts';
import type { LogFormat } from './parsers.ts';
import { readIntoStore, type ReadSettings } from './tail-read.ts';
import { fileIdOf, hashHead, parseFileId, readAt, type FileState, type ResolvedSpec, type SavedOffset } from './tailed-file.ts';
import type { LogStore } from './types.ts';

export interface TailFileSpec {
  /** A file, or a pattern with `*`/`?` in any segment (`logs/*\/zookeeper.log`); relative to `cwd`. */
  path: string;
  format: LogFormat;
  /**
   * The entries' source: a name, or a template where `{dir}` is the file's folder name and `{name}` its
   * name without extension (`'{dir}'` for logs/zk1/zookeeper.log is 'zk1'), or a function of the path.
   */
  source: string | ((file: string) => string);
}

export interface LogTailerOptions {
  store: LogStore;
  files: readonly TailFileSpec[];
  /** Base of relative paths. Default process.cwd(). */
  cwd?: string;
  /** Polling period. Default 1000 ms. */
  intervalMs?: number;
  /** Use fs.watch to poll sooner after a change. Default true. */
  watch?: boolean;
  /** How long a file must be still before its last (maybe unfinished) event is taken. Default 200 ms. */
  settleMs?: number;
  /** Largest read per file per step; bounds memory on a big backlog. Default 1 MiB. */
  maxReadBytes?: number;
  /** Where to begin in files that exist at start-up and have no saved position. Default 'start'. */
  startAt?: 'start' | 'end';
  /** I/O and store errors (the tailer carries on and retries at the next poll). */
  onError?: (err: unknown, file?: string) => void;
  now?: () => number;
}

/** fs.watch fires per write; coalesce a burst into one poll. */
const WATCH_DEBOUNCE_MS = 100;

interface OpenFile {
  fh: FileHandle;
  dev: number;
  ino: number;
  size: number;
  mtimeMs: number;
}

function resolveSource(source: TailFileSpec['source']): (file: string) => string {
  if (typeof source === 'function') return source;
  return (file) =>
    source.replaceAll('{dir}', path.basename(path.dirname(file))).replaceAll('{name}', path.basename(file, path.extname(file)));
}

/**
 * The files the server writes, under `logsDir`: the backend's pino files (pino-roll's numbered
 * `backend/server.<n>.log`: each new number is a new file, deleted ones are forgotten), each ZooKeeper node's
 * zookeeper.log (source: the node) and each node's storage agent log (source: `agent:<node>`).
 * stdout.log is left out: it repeats zookeeper.log through log4j's console appender.
 */
export function defaultLogFiles(logsDir: string, nodes?: readonly string[]): TailFileSpec[] {
  const node = (n: string): string => path.join(logsDir, n);
  const perNode = nodes && nodes.length > 0 ? nodes : ['*'];
  return [
    { path: path.join(logsDir, 'backend', '*.log'), format: 'pino', source: 'backend' },
    ...perNode.map((n): TailFileSpec => ({ path: path.join(node(n), 'zookeeper.log'), format: 'log4j', source: '{dir}' })),
    ...perNode.map((n): TailFileSpec => ({ path: path.join(node(n), 'agent.log'), format: 'plain', source: 'agent:{dir}' })),
  ];
}

export class LogTailer {
  private readonly store: LogStore;
  private readonly specs: readonly TailFileSpec[];
  private readonly cwd: string;
  private readonly intervalMs: number;
  private readonly useWatch: boolean;
  private readonly settleMs: number;
  private readonly maxReadBytes: number;
  private readonly startAt: 'start' | 'end';
  private readonly onError: (err: unknown, file?: string) => void;
  private readonly now: () => number;
  private readonly reading: ReadSettings;

  private states = new Map<string, FileState>();
  /** Positions read from the store at start, not yet matched to a file. */
  private saved: Map<string, SavedOffset> | null = null;
  private firstPoll = true;
  private running: Promise<void> | null = null;
  private rerun = false;
  private started = false;
  private interval: NodeJS.Timeout | null = null;
  private soon: NodeJS.Timeout | null = null;
  private readonly watchers = new Map<string, FSWatcher>();

  constructor(options: LogTailerOptions) {
    this.store = options.store;
    this.specs = options.files;
    this.cwd = options.cwd ?? process.cwd();
    this.intervalMs = options.intervalMs ?? 1000;
    this.useWatch = options.watch ?? true;
    this.settleMs = options.settleMs ?? 200;
    this.maxReadBytes = Math.max(4096, options.maxReadBytes ?? 1024 * 1024);
    this.startAt = options.startAt ?? 'start';
    this.onError = options.onError ?? (() => undefined);
    this.now = options.now ?? Date.now;
    this.reading = { store: this.store, settleMs: this.settleMs, maxReadBytes: this.maxReadBytes, now: this.now };
  }

  /** The files followed after the last poll. */
  get files(): string[] {
    return [...this.states.keys()].sort();
  }

  /** Loads saved positions, reads what is new, then keeps following. Never throws for I/O (see onError). */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.interval = setInterval(() => void this.poll(), this.intervalMs);
    // The tailer is a background helper: it must not keep a process alive on its own.
    this.interval.unref();
    await this.poll();
  }

  /** Stops following and waits for a poll in progress. What was not yet stored is read again next start. */
  async stop(): Promise<void> {
    this.started = false;
    if (this.interval) clearInterval(this.interval);
    if (this.soon) clearTimeout(this.soon);
    this.interval = null;
    this.soon = null;
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
    await this.running;
  }

  /** One pass over every file now (also what the timer and the watchers run). Concurrent calls share passes. */
  poll(): Promise<void> {
    if (this.running) {
      this.rerun = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.rerun = false;
        await this.pollOnce();
      } while (this.rerun);
    })().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private pollSoon(delayMs: number): void {
    if (!this.started || this.soon) return;
    this.soon = setTimeout(
      () => {
        this.soon = null;
        void this.poll();
      },
      Math.max(0, delayMs),
    );
    this.soon.unref();
  }

  /** Format and source of a saved position's file, from the first spec whose pattern names it. */
  private specFor(file: string): ResolvedSpec {
    const spec = this.specs.find((s) => patternMatches(s.path, this.cwd, file));
    return spec ? { format: spec.format, source: resolveSource(spec.source) } : { format: 'plain', source: () => 'unknown' };
  }

  private async loadSaved(): Promise<Map<string, SavedOffset>> {
    if (this.saved) return this.saved;
    const saved = new Map<string, SavedOffset>();
    for (const o of await this.store.tailOffsets()) {
      const id = parseFileId(o.fileId);
      if (id) saved.set(o.path, { ...id, offset: o.offset });
    }
    this.saved = saved;
    return saved;
  }

  private async pollOnce(): Promise<void> {
    let saved: Map<string, SavedOffset>;
    try {
      saved = await this.loadSaved();
    } catch (err) {
      // Without the saved positions every file would be read again from the start: wait for the store.
      this.onError(err);
      return;
    }
    const { found, dirs } = await this.expand();
    if (this.useWatch && this.started) this.watchDirs(dirs);
    const { handles, unreadable } = await this.openAll(found);
    try {
      const previous = [...this.states.values(), ...[...saved].map(([p, s]) => this.savedState(p, s))];
      const { next, claimed } = await this.match(previous, handles, found, saved);

      // Files whose position is no longer claimed were rotated away or deleted: read what is left of
      // them first (it is older than anything in their successors), then forget them.
      for (const s of previous) {
        if (claimed.has(s)) continue;
        if (unreadable.has(s.path) && !next.has(s.path)) {
          next.set(s.path, s);
          continue;
        }
        await this.drainRotated(s);
      }
      // Positions of names that no longer hold a followed file go; a name that now holds a new file
      // keeps its row, overwritten by the new file's position.
      let drop = [...new Set(previous.map((s) => s.path))].filter((p) => !next.has(p));
      saved.clear();
      this.firstPoll = false;
      this.states = next;

      for (const [file, state] of next) {
        const h = handles.get(file);
        if (!h) continue;
        try {
          await this.readFile(state, h.fh, h.size, false, drop);
          drop = [];
        } catch (err) {
          this.onError(err, file);
        }
      }
      if (drop.length > 0) await this.store.append([], { dropOffsets: drop });
    } catch (err) {
      this.onError(err);
    } finally {
      await Promise.all([...handles.values()].map((h) => h.fh.close().catch(() => undefined)));
    }
  }

  /** Expands the patterns; the first spec that names a file decides its format and source. */
  private async expand(): Promise<{ found: Map<string, ResolvedSpec>; dirs: Set<string> }> {
    const found = new Map<string, ResolvedSpec>();
    const dirs = new Set<string>();
    for (const spec of this.specs) {
      try {
        const { files, dirs: walked } = await expandPattern(spec.path, this.cwd);
        for (const d of walked) dirs.add(d);
        for (const f of files) if (!found.has(f)) found.set(f, { format: spec.format, source: resolveSource(spec.source) });
      } catch (err) {
        this.onError(err, spec.path);
      }
    }
    return { found, dirs };
  }

  private async openAll(found: Map<string, ResolvedSpec>): Promise<{ handles: Map<string, OpenFile>; unreadable: Set<string> }> {
    const handles = new Map<string, OpenFile>();
    // Present but not readable this time (EACCES, EMFILE...): their positions are kept as they are.
    const unreadable = new Set<string>();
    for (const file of found.keys()) {
      try {
        const fh = await fs.open(file, 'r');
        try {
          // fstat on the open handle: the identity and size of exactly what will be read.
          const st = await fh.stat();
          handles.set(file, { fh, dev: st.dev, ino: st.ino, size: st.size, mtimeMs: st.mtimeMs });
        } catch (err) {
          await fh.close();
          throw err;
        }
      } catch (err) {
        // Gone between the listing and the open: simply not there this time.
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        unreadable.add(file);
        this.onError(err, file);
      }
    }
    return { handles, unreadable };
  }

  private savedState(file: string, s: SavedOffset): FileState {
    return { path: file, spec: this.specFor(file), ...s, savedId: fileIdOf(s), savedOffset: s.offset, lastSize: s.offset, lastGrowthAt: 0 };
  }

  /**
   * Gives every open file its state: a known one with the same inode and the same first bytes (under
   * this name first, else one that arrived here by a rename), or a fresh one.
   */
  private async match(
    previous: readonly FileState[],
    handles: Map<string, OpenFile>,
    found: Map<string, ResolvedSpec>,
    saved: Map<string, SavedOffset>,
  ): Promise<{ next: Map<string, FileState>; claimed: Set<FileState> }> {
    const claimed = new Set<FileState>();
    const next = new Map<string, FileState>();
    for (const [file, h] of handles) {
      const spec = found.get(file) as ResolvedSpec;
      const candidates = previous
        .filter((s) => s.dev === h.dev && s.ino === h.ino && !claimed.has(s))
        .sort((a, b) => Number(b.path === file) - Number(a.path === file));
      let state: FileState | null = null;
      for (const c of candidates) {
        if (c.headLen <= h.size && hashHead(await readAt(h.fh, 0, c.headLen)) === c.headHash) {
          claimed.add(c);
          // A renamed file's position must be saved under its new name.
          state = { ...c, path: file, spec, savedId: c.path === file ? c.savedId : null };
          if (state.lastGrowthAt === 0) state.lastGrowthAt = Math.min(this.now(), h.mtimeMs);
          break;
        }
      }
      if (!state) {
        const skipBacklog = this.firstPoll && this.startAt === 'end' && !saved.has(file) && !this.states.has(file);
        state = {
          path: file,
          spec,
          dev: h.dev,
          ino: h.ino,
          headLen: 0,
          headHash: hashHead(Buffer.alloc(0)),
          offset: skipBacklog ? h.size : 0,
          savedId: null,
          savedOffset: -1,
          lastSize: h.size,
          // An old file is settled already; a new one gets settleMs to finish its last event. (mtime has
          // sub-millisecond precision and Date.now() does not: never let it be in the future.)
          lastGrowthAt: Math.min(this.now(), h.mtimeMs),
        };
      }
      if (h.size !== state.lastSize) {
        // The file's own mtime says when it last grew, even if the tailer looks much later.
        state.lastSize = h.size;
        state.lastGrowthAt = Math.min(this.now(), h.mtimeMs);
      }
      next.set(file, state);
    }
    return { next, claimed };
  }

  /** Looks for a rotated file (same inode and head) next to its old name and reads it to its end. */
  private async drainRotated(state: FileState): Promise<void> {
    const dir = path.dirname(state.path);
    let names: string[];
    try {
      names = await fs.readdir(dir);
    } catch {
      return;
    }
    for (const name of names) {
      const candidate = path.join(dir, name);
      let fh: FileHandle | null = null;
      try {
        fh = await fs.open(candidate, 'r');
        const st = await fh.stat();
        if (!st.isFile() || st.dev !== state.dev || st.ino !== state.ino || st.size < state.headLen) continue;
        if (hashHead(await readAt(fh, 0, state.headLen)) !== state.headHash) continue;
        // The writer has moved on to the new file: everything here is final, partial last line included.
        // The state keeps its old name: the source is the one of the name the lines were written under.
        await this.readFile({ ...state, savedId: null }, fh, st.size, true, []);
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.onError(err, candidate);
      } finally {
        await fh?.close().catch(() => undefined);
      }
    }
  }

  /** Reads what is new in `state`'s file (see readIntoStore), then schedules a poll for what it held back. */
  private async readFile(state: FileState, fh: FileHandle, size: number, final: boolean, dropOffsets: string[]): Promise<void> {
    await readIntoStore(state, fh, size, final, dropOffsets, this.reading);
    if (!final && state.offset < size) {
      // Something is held back: look again once the file may have settled.
      this.pollSoon(state.lastGrowthAt + this.settleMs - this.now());
    }
  }

  private watchDirs(dirs: Set<string>): void {
    for (const dir of dirs) {
      if (this.watchers.has(dir)) continue;
      try {
        const w = watch(dir, { persistent: false }, () => this.pollSoon(WATCH_DEBOUNCE_MS));
        w.on('error', () => {
          // The folder went away (or the watch broke): polling carries on, re-watch when it is back.
          w.close();
          this.watchers.delete(dir);
        });
        this.watchers.set(dir, w);
      } catch {
        // fs.watch is only a hint (ENOSPC on inotify limits, unsupported file systems): polling covers it.
      }
    }
  }
}
