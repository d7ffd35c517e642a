/**
 * The disk side of the data API: the one folder this agent owns. Every write lands in a dot-prefixed `.part`
 * file, is checked (length and SHA-256) and fsynced, and only then gets its real name through link(), which
 * never replaces an existing file; so no reader, listing or crash ever sees half a file under a real name.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  fstatSync,
  linkSync,
  lstatSync,
  openSync,
  readSync,
  renameSync,
  type Stats,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { link, lstat, mkdir, open, readdir, rename, rm, stat, statfs, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';

import { fileNameProblem, FrameStreamError, normaliseSha256, TEMP_SUFFIX, type TFileEntry, type TProbe } from '@zkha/storage';

import { DataApiError, errnoOf, isDataApiError } from './data-api-error.ts';
import {
  GroupCommit,
  hashHandle,
  identity,
  kernelId,
  openReadSync,
  SMALL_IO_BYTES,
  SYNC_ENV,
  syncDir,
  TimeSlice,
  writeAll,
} from './disk-io.ts';
import { FolderIndex, type FileIdentity } from './folder-index.ts';
import { createProbe, seesProbe } from './same-host.ts';

/** Per-process prefix of temp names; a counter makes each unique (no random bytes per file). */
const TEMP_TAG = randomBytes(4).toString('hex');
let tempSeq = 0;
const STAT_BATCH = 64;
/** From this many files on, one syncfs makes a group durable rather than an fsync each. */
const SYNCFS_MIN_FILES = 8;
/** link() errors that send a same-host fast-path file over HTTP instead (gone, another filesystem, not allowed). */
const LINK_ELSEWHERE = new Set(['ENOENT', 'EXDEV', 'EPERM', 'EACCES', 'EMLINK', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'ELOOP', 'ENOTDIR']);
// link() errors meaning "no hard links on this filesystem": fall back to check-then-rename.
const NO_HARDLINK = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EMLINK']);

export interface AgentFolderOptions {
  node: string;
  dir: string;
  /** Configured capacity; null = the filesystem's size (the pre-capacity behaviour). */
  capacityBytes: number | null;
  maxFileBytes: number;
}

/** A verified file waiting under its temp name for publishStaged. */
export interface StagedFile {
  name: string;
  tempPath: string;
  sha256: string;
  sizeBytes: number;
  id: FileIdentity;
  /** Its data was fsynced on its own. */
  synced: boolean;
}

export interface WriteExpectation {
  sha256: string;
  sizeBytes: number;
  signal?: AbortSignal;
}

export class AgentFolder {
  readonly index = new FolderIndex();
  private filesystemId = '';
  private ownFilesystem = false;
  /** Whether `sync -f` (syncfs) works here; null until tried. */
  private syncfsWorks: boolean | null = null;
  /** syncfs of the folder's filesystem (`sync -f`), shared by the groups that ask at about the same time. */
  // A small environment: copying the agent's whole environment for each spawn was ~40% of the spawn's cost.
  private readonly fsSync = new GroupCommit(
    () =>
      new Promise<void>((resolve, reject) =>
        execFile('sync', ['-f', this.dir], { timeout: 120_000, env: SYNC_ENV }, (err: Error | null) => (err ? reject(err) : resolve())),
      ),
  );
  /** fsync of the folder, shared likewise: on ext4 each one is a journal commit of everything pending. */
  private readonly dirSync = new GroupCommit(() => syncDir(this.dir));

  /** Names checked by a batched delete whose unlink is on the threadpool: no publish may take them meanwhile. */
  private readonly deleting = new Set<string>();

  constructor(readonly opts: AgentFolderOptions) {}

  get dir(): string {
    return this.opts.dir;
  }

  /** Creates the folder, clears stale temp files, and indexes what is there (no hashing). */
  async open(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const [own, parent] = await Promise.all([stat(this.dir), stat(path.dirname(path.resolve(this.dir)))]);
    this.ownFilesystem = own.dev !== parent.dev;
    this.filesystemId = `${await kernelId()}:${own.dev}`;
    // The agent is its folder's only writer: every temp file found at start belongs to a write a previous run of
    // this agent never finished (it was killed mid-put or mid-pull), and nobody will finish it.
    for (const e of await readdir(this.dir, { withFileTypes: true })) {
      if (e.isFile() && e.name.startsWith('.') && e.name.endsWith(TEMP_SUFFIX)) await rm(path.join(this.dir, e.name), { force: true });
    }
    await this.rescan();
  }

  /**
   * Walks the folder and makes the index agree with it. Needed at start and, now and then, to notice files an
   * operator put in or took out by hand.
   */
  async rescan(): Promise<void> {
    const mark = this.index.scanMark();
    const names = (await readdir(this.dir, { withFileTypes: true }))
      .filter((e) => e.isFile() && fileNameProblem(e.name) === null)
      .map((e) => e.name);
    const seen = new Map<string, FileIdentity>();
    for (let i = 0; i < names.length; i += STAT_BATCH) {
      const batch = names.slice(i, i + STAT_BATCH);
      const stats = await Promise.all(batch.map((n) => lstat(path.join(this.dir, n)).catch(() => null)));
      batch.forEach((n, j) => {
        const st = stats[j];
        if (st?.isFile()) seen.set(n, identity(st));
      });
    }
    this.index.applyScan(mark, seen);
  }

  pathOf(name: string): string {
    const problem = fileNameProblem(name);
    if (problem !== null) throw new DataApiError('BAD_INPUT', `${problem}: ${JSON.stringify(name)}`, { name });
    return path.join(this.dir, name);
  }

  /** Capacity figures; statfs each time, as other writers (or other agents on the same disk) change free space. */
  async usage(): Promise<{
    files: number;
    bytes: number;
    capacityBytes: number;
    freeBytes: number;
    reservedBytes: number;
    filesystemId: string;
    ownFilesystem: boolean;
  }> {
    const fs = await statfs(this.dir);
    const fsFree = fs.bavail * fs.bsize;
    const capacityBytes = this.opts.capacityBytes ?? fs.blocks * fs.bsize;
    const { bytes, files, reserved } = this.index;
    // The filesystem's free space bounds the room too: on a shared disk other writers may have taken it.
    const freeBytes = Math.max(0, Math.min(capacityBytes - bytes - reserved, fsFree - reserved));
    return {
      files,
      bytes,
      capacityBytes,
      freeBytes,
      reservedBytes: reserved,
      filesystemId: this.filesystemId,
      ownFilesystem: this.ownFilesystem,
    };
  }

  /**
   * Reserves room for a write of `size` bytes, or refuses with NODE_FULL and the figures. The check and the
   * reservation happen with no await between them, so two puts racing for the last bytes cannot both pass.
   */
  async reserve(size: number): Promise<() => void> {
    if (size > this.opts.maxFileBytes) {
      throw new DataApiError('PAYLOAD_TOO_LARGE', `${size} bytes is over this node's limit of ${this.opts.maxFileBytes} bytes per file`, {
        sizeBytes: size,
        maxFileBytes: this.opts.maxFileBytes,
      });
    }
    const u = await this.usage();
    if (size > u.freeBytes) {
      throw new DataApiError(
        'NODE_FULL',
        `node ${this.opts.node} is full: ${size} bytes requested, ${u.freeBytes} free of ${u.capacityBytes} (${u.bytes} used, ${u.reservedBytes} reserved)`,
        {
          node: this.opts.node,
          requestedBytes: size,
          freeBytes: u.freeBytes,
          capacityBytes: u.capacityBytes,
          usedBytes: u.bytes,
          reservedBytes: u.reservedBytes,
        },
      );
    }
    return this.index.reserve(size);
  }

  /** Size, checksum and mtime of a stored file (hashed once, then cached), or null. */
  async stat(name: string): Promise<TFileEntry | null> {
    const opened = await this.openRead(name);
    if (!opened) return null;
    await opened.fh.close();
    return opened.entry;
  }

  /**
   * Opens a stored file for reading, never through a symlink. The checksum belongs to the opened file (fstat
   * of the handle), so a concurrent delete or re-put of the name cannot pair one file's bytes with another's ETag.
   */
  async openRead(name: string): Promise<{ fh: FileHandle; entry: TFileEntry } | null> {
    const full = this.pathOf(name);
    let fh: FileHandle;
    try {
      fh = await open(full, constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch (err) {
      if (['ENOENT', 'ELOOP', 'ENOTDIR'].includes(errnoOf(err) ?? '')) return null;
      throw err;
    }
    try {
      const st = await fh.stat();
      if (!st.isFile()) {
        await fh.close();
        return null;
      }
      const id = identity(st);
      let sha256 = this.index.cachedSha(name, id);
      if (sha256 === null) {
        sha256 = await hashHandle(fh, st.size);
        this.index.record(name, id, sha256);
      }
      return { fh, entry: { name, sizeBytes: st.size, sha256, modifiedAt: st.mtime.toISOString() } };
    } catch (err) {
      await fh.close().catch(() => undefined);
      throw err;
    }
  }

  /**
   * Streams `source` into a `.part` file and publishes it under `name` only if exactly `sizeBytes` bytes came and
   * they hash to `sha256`. The same content already under that name is success (created: false), so a retried
   * put or pull succeeds; different content is CONFLICT. Any failure removes the `.part` file.
   */
  async writeVerified(name: string, source: AsyncIterable<Uint8Array>, want: WriteExpectation): Promise<{ created: boolean }> {
    const staged = await this.stage(name, source, want, { sync: true });
    const [outcome] = await this.publishStaged([staged]);
    if (outcome instanceof Error) throw outcome;
    return outcome!;
  }

  /**
   * The first half of writeVerified: streams `source` into a `.part` file (invisible: dot-prefixed, and refused as a
   * name) and checks its length and SHA-256. With `sync: false` the data is not yet durable: publishStaged makes a
   * whole group durable at once before any of it gets its name. Any failure removes the `.part` file.
   */
  async stage(name: string, source: AsyncIterable<Uint8Array>, want: WriteExpectation, opts: { sync: boolean }): Promise<StagedFile> {
    this.pathOf(name);
    const tempPath = this.tempPathFor(name);
    const hash = createHash('sha256');
    let size = 0;
    let fh: FileHandle | undefined;
    try {
      fh = await open(tempPath, 'wx', 0o644);
      try {
        for await (const chunk of source) {
          want.signal?.throwIfAborted();
          size += chunk.byteLength;
          // Stop at the first byte too many rather than writing a source that never ends.
          if (size > want.sizeBytes)
            throw new DataApiError('LENGTH_MISMATCH', `more than the declared ${want.sizeBytes} bytes arrived`, {
              expected: want.sizeBytes,
            });
          hash.update(chunk);
          await writeAll(fh, chunk);
        }
      } catch (err) {
        // A frame stream that broke off is the source's failure, told apart by the caller (SOURCE_UNAVAILABLE).
        if (isDataApiError(err) || errnoOf(err) === 'ENOSPC' || err instanceof FrameStreamError) throw err;
        // The sender went away or broke off: a truncated body is a length problem, whatever the socket said.
        throw new DataApiError(
          'LENGTH_MISMATCH',
          `the body broke off after ${size} of ${want.sizeBytes} bytes: ${(err as Error).message}`,
          { expected: want.sizeBytes, received: size },
          { cause: err },
        );
      }
      if (size !== want.sizeBytes)
        throw new DataApiError('LENGTH_MISMATCH', `${size} bytes arrived, ${want.sizeBytes} were declared`, {
          expected: want.sizeBytes,
          received: size,
        });
      const sha256 = hash.digest('hex');
      if (sha256 !== want.sha256)
        throw new DataApiError('CHECKSUM_MISMATCH', `content hashes to ${sha256}, ${want.sha256} was declared`, {
          expected: want.sha256,
          actual: sha256,
        });
      if (opts.sync) await fh.sync();
      // link() and unlink() of the temp name change nothing the index keys on: this is the published file's identity.
      const id = identity(await fh.stat());
      await fh.close();
      fh = undefined;
      return { name, tempPath, sha256, sizeBytes: size, id, synced: opts.sync };
    } catch (err) {
      await fh?.close().catch(() => undefined);
      await rm(tempPath, { force: true }).catch(() => undefined);
      if (errnoOf(err) === 'ENOSPC')
        throw new DataApiError(
          'NODE_FULL',
          `node ${this.opts.node}: the filesystem ran out of space`,
          { node: this.opts.node },
          { cause: err },
        );
      throw err;
    }
  }

  /**
   * stage() for a small file whose bytes are all in memory (a frame of a multi-file read): verified before anything
   * is written, then written with synchronous calls (see SMALL_IO_BYTES). The data is not synced: publishStaged does.
   */
  stageSmall(name: string, chunks: readonly Uint8Array[], want: WriteExpectation): StagedFile {
    this.pathOf(name);
    const size = chunks.reduce((s, c) => s + c.byteLength, 0);
    if (size !== want.sizeBytes)
      throw new DataApiError('LENGTH_MISMATCH', `${size} bytes arrived, ${want.sizeBytes} were declared`, {
        expected: want.sizeBytes,
        received: size,
      });
    const hash = createHash('sha256');
    for (const c of chunks) hash.update(c);
    const sha256 = hash.digest('hex');
    if (sha256 !== want.sha256)
      throw new DataApiError('CHECKSUM_MISMATCH', `content hashes to ${sha256}, ${want.sha256} was declared`, {
        expected: want.sha256,
        actual: sha256,
      });
    const tempPath = this.tempPathFor(name);
    let fd: number | undefined;
    try {
      fd = openSync(tempPath, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
      for (const c of chunks) for (let off = 0; off < c.byteLength;) off += writeSync(fd, c, off, c.byteLength - off);
      const id = identity(fstatSync(fd));
      closeSync(fd);
      fd = undefined;
      return { name, tempPath, sha256, sizeBytes: size, id, synced: false };
    } catch (err) {
      if (fd !== undefined) closeSync(fd);
      try {
        unlinkSync(tempPath);
      } catch {
        // never created, or already gone
      }
      if (errnoOf(err) === 'ENOSPC')
        throw new DataApiError(
          'NODE_FULL',
          `node ${this.opts.node}: the filesystem ran out of space`,
          { node: this.opts.node },
          { cause: err },
        );
      throw err;
    }
  }

  /**
   * A stored small file, whole, read with synchronous calls (see SMALL_IO_BYTES), with its checksum: 'absent',
   * 'large' (over `maxBytes`: stream it with openRead instead) or 'changed' (it shrank while being read).
   */
  readSmall(name: string, maxBytes: number): { entry: TFileEntry; bytes: Buffer } | 'absent' | 'large' | 'changed' {
    const full = this.pathOf(name);
    let fd: number;
    try {
      fd = openReadSync(full);
    } catch (err) {
      if (['ENOENT', 'ELOOP', 'ENOTDIR'].includes(errnoOf(err) ?? '')) return 'absent';
      throw err;
    }
    try {
      const st = fstatSync(fd);
      if (!st.isFile()) return 'absent';
      if (st.size > maxBytes) return 'large';
      const bytes = Buffer.allocUnsafe(st.size);
      for (let pos = 0; pos < st.size;) {
        const n = readSync(fd, bytes, pos, st.size - pos, pos);
        if (n === 0) return 'changed';
        pos += n;
      }
      const id = identity(st);
      let sha256 = this.index.cachedSha(name, id);
      if (sha256 === null) {
        sha256 = createHash('sha256').update(bytes).digest('hex');
        this.index.record(name, id, sha256);
      }
      return { entry: { name, sizeBytes: st.size, sha256, modifiedAt: st.mtime.toISOString() }, bytes };
    } finally {
      closeSync(fd);
    }
  }

  /**
   * The same-host fast path, stage() by hard link: `sourcePath` (another agent's file, on this filesystem) gets a
   * temp name here, then its bytes are read and hashed like any pulled file before publishStaged may name it. The
   * data is already durable (the source published it). null when the link cannot be made: pull it over HTTP.
   */
  async stageLink(sourcePath: string, name: string, want: WriteExpectation): Promise<StagedFile | null> {
    this.pathOf(name);
    const tempPath = this.tempPathFor(name);
    try {
      linkSync(sourcePath, tempPath);
    } catch (err) {
      if (LINK_ELSEWHERE.has(errnoOf(err) ?? '')) return null;
      throw err;
    }
    const drop = () => {
      try {
        unlinkSync(tempPath);
      } catch {
        // already gone
      }
    };
    try {
      // O_NOFOLLOW: link() of a symlink links the symlink itself; such a thing is no file of the source's.
      const fd = openSync(tempPath, constants.O_RDONLY | constants.O_NOFOLLOW);
      let st: Stats;
      let sha256: string;
      try {
        st = fstatSync(fd);
        if (!st.isFile()) throw Object.assign(new Error('not a regular file'), { code: 'ELOOP' });
        if (st.size !== want.sizeBytes)
          throw new DataApiError('LENGTH_MISMATCH', `the source holds ${st.size} bytes, ${want.sizeBytes} were expected`, {
            expected: want.sizeBytes,
            source: st.size,
          });
        if (st.size <= SMALL_IO_BYTES) {
          const bytes = Buffer.allocUnsafe(st.size);
          for (let pos = 0; pos < st.size;) {
            const n = readSync(fd, bytes, pos, st.size - pos, pos);
            if (n === 0)
              throw new DataApiError('LENGTH_MISMATCH', `the source's copy shrank while being read`, { expected: want.sizeBytes });
            pos += n;
          }
          sha256 = createHash('sha256').update(bytes).digest('hex');
        } else {
          const fh = await open(tempPath, constants.O_RDONLY | constants.O_NOFOLLOW);
          try {
            sha256 = await hashHandle(fh, st.size);
          } finally {
            await fh.close();
          }
        }
      } finally {
        closeSync(fd);
      }
      if (sha256 !== want.sha256)
        throw new DataApiError('CHECKSUM_MISMATCH', `content hashes to ${sha256}, ${want.sha256} was declared`, {
          expected: want.sha256,
          actual: sha256,
        });
      return { name, tempPath, sha256, sizeBytes: st.size, id: identity(st), synced: true };
    } catch (err) {
      drop();
      if (errnoOf(err) === 'ELOOP') return null;
      throw err;
    }
  }

  /** Answers POST /v1/probe (see same-host.ts). */
  createProbe(): TProbe {
    return createProbe(this.dir, this.filesystemId);
  }

  /** Whether another agent's probe is visible from here, where it says: its folder is then this agent's to link from. */
  seesProbe(probe: TProbe): boolean {
    return seesProbe(probe, this.filesystemId);
  }

  /**
   * Whether a name is taken (any kind of entry), by one synchronous lstat. Usually it is not (a pull's precheck):
   * answered without an exception, whose error object and stack cost more than the lstat itself.
   */
  existsSync(name: string): boolean {
    return lstatSync(this.pathOf(name), { throwIfNoEntry: false }) !== undefined;
  }

  /**
   * The second half: makes the staged files durable (one filesystem sync for a group, see syncData), gives each its
   * name without replacing anything, then syncs the directory once. One outcome per file, in order: created, or the
   * error (CONFLICT: the name holds other content); a file that failed leaves no `.part` behind.
   */
  async publishStaged(files: readonly StagedFile[]): Promise<({ created: boolean } | DataApiError)[]> {
    if (files.length === 0) return [];
    try {
      await this.syncData(files.filter((f) => !f.synced));
    } catch (err) {
      await Promise.all(files.map((f) => rm(f.tempPath, { force: true }).catch(() => undefined)));
      throw err;
    }
    const outcomes: ({ created: boolean } | DataApiError)[] = [];
    let created = 0;
    const slice = new TimeSlice();
    for (const f of files) {
      await slice.maybeYield();
      try {
        // A batched delete checks a name, then unlinks it on the threadpool: nothing may take the name in between,
        // or the delete would remove content it never checked.
        if (this.deleting.has(f.name))
          throw new DataApiError('CONFLICT', `${f.name} is being deleted on ${this.opts.node}: try again`, { name: f.name });
        const finalPath = this.pathOf(f.name);
        const made = this.publishSync(f.tempPath, finalPath) || (await this.publish(f.tempPath, finalPath, f.name, f));
        if (made) {
          this.index.record(f.name, f.id, f.sha256);
          created++;
        }
        outcomes.push({ created: made });
      } catch (err) {
        await rm(f.tempPath, { force: true }).catch(() => undefined);
        outcomes.push(isDataApiError(err) ? err : new DataApiError('INTERNAL', (err as Error).message, undefined, { cause: err }));
      }
    }
    if (created > 0) await this.dirSync.run();
    return outcomes;
  }

  /**
   * Makes the data of `files` durable. One file: fsync. A group: one syncfs of the folder's filesystem (`sync -f`)
   * instead of a journal commit per file, which on a small-file batch costs more than everything else together;
   * concurrent groups share a syncfs that starts after their writes. Where `sync -f` is missing, each file is
   * fsynced (in parallel, so the filesystem can still commit them together).
   */
  private async syncData(files: readonly StagedFile[]): Promise<void> {
    if (files.length === 0) return;
    if (files.length >= SYNCFS_MIN_FILES && this.syncfsWorks !== false) {
      try {
        await this.fsSync.run();
        this.syncfsWorks = true;
        return;
      } catch (err) {
        if (this.syncfsWorks === true) throw err; // it worked before: this is a real I/O error
        this.syncfsWorks = false;
      }
    }
    for (let i = 0; i < files.length; i += STAT_BATCH) {
      await Promise.all(
        files.slice(i, i + STAT_BATCH).map(async (f) => {
          const fh = await open(f.tempPath, 'r');
          try {
            await fh.datasync();
          } finally {
            await fh.close();
          }
        }),
      );
    }
  }

  /** Returns true if `name` was deleted, false if it was not there. `ifSha256` deletes only that content. */
  async remove(name: string, ifSha256?: string): Promise<boolean> {
    const deleted = await this.unlinkChecked(name, ifSha256);
    if (deleted) await this.dirSync.run();
    return deleted;
  }

  /**
   * remove() of many files with one directory sync; one outcome per file, in order. The checks (lstat, the cached
   * checksum) are synchronous; the unlinks of each chunk then go to the threadpool together: measured during a
   * rebalance, an unlink on the source waits ~90 µs for the journal (the targets' syncs) against ~8 µs alone, and
   * made one after the other on the event loop those waits added up and held up the source's reads.
   */
  async removeMany(files: readonly { name: string; sha256?: string }[]): Promise<(boolean | DataApiError)[]> {
    const outcomes = new Array<boolean | DataApiError>(files.length);
    const asError = (err: unknown) =>
      isDataApiError(err) ? err : new DataApiError('INTERNAL', (err as Error).message, undefined, { cause: err });
    const slice = new TimeSlice();
    for (let start = 0; start < files.length; start += STAT_BATCH) {
      const due: Promise<void>[] = [];
      for (let i = start; i < Math.min(files.length, start + STAT_BATCH); i++) {
        await slice.maybeYield();
        const f = files[i]!;
        try {
          const sum = f.sha256 === undefined ? undefined : normaliseSha256(f.sha256);
          if (sum === null) throw new DataApiError('BAD_INPUT', `sha256 of ${JSON.stringify(f.name)} is not 64 hex digits`);
          const checked = this.checkCachedSync(f.name, sum);
          if (checked === 'unlink') {
            this.deleting.add(f.name);
            due.push(
              this.unlinkKnown(f.name)
                .then(
                  (deleted) => void (outcomes[i] = deleted),
                  (err: unknown) => void (outcomes[i] = asError(err)),
                )
                .finally(() => this.deleting.delete(f.name)),
            );
          } else outcomes[i] = checked ?? (await this.unlinkChecked(f.name, sum));
        } catch (err) {
          outcomes[i] = asError(err);
        }
      }
      await Promise.all(due);
    }
    if (outcomes.some((o) => o === true)) await this.dirSync.run();
    return outcomes;
  }

  /**
   * The usual case of a batched delete's check, synchronously: lstat and the checksum from the index. 'unlink' when
   * the name may go, false when it is not there, undefined when the checksum is not cached (the async path hashes
   * the file); PRECONDITION_FAILED for other content.
   */
  private checkCachedSync(name: string, ifSha256: string | undefined): 'unlink' | false | undefined {
    const full = this.pathOf(name);
    let st: Stats;
    try {
      st = lstatSync(full);
    } catch (err) {
      if (errnoOf(err) !== 'ENOENT') throw err;
      this.index.forget(name);
      return false;
    }
    if (!st.isFile()) return ifSha256 === undefined ? undefined : false;
    if (ifSha256 !== undefined) {
      const current = this.index.cachedSha(name, identity(st));
      if (current === null) return undefined;
      if (current !== ifSha256)
        throw new DataApiError('PRECONDITION_FAILED', `${name} holds ${current}, not ${ifSha256}`, { name, sha256: current });
    }
    return 'unlink';
  }

  /** Unlinks a name already checked; false when it was gone meanwhile. */
  private async unlinkKnown(name: string): Promise<boolean> {
    try {
      await unlink(this.pathOf(name));
    } catch (err) {
      if (errnoOf(err) !== 'ENOENT') throw err;
      this.index.forget(name);
      return false;
    }
    this.index.forget(name);
    return true;
  }

  /**
   * publish()'s usual case, synchronously: true when the file got its name; false for anything else (publish sorts
   * it out, never replacing a name). A rename where the name is free: one directory change instead of a link and an
   * unlink (measured on a rebalance of small files). Only this agent writes its folder, and the check and the rename
   * run in one turn of its event loop, so nothing can take the name in between.
   */
  private publishSync(tempPath: string, finalPath: string): boolean {
    if (lstatSync(finalPath, { throwIfNoEntry: false }) !== undefined) return false;
    try {
      renameSync(tempPath, finalPath);
    } catch {
      return false;
    }
    return true;
  }

  private tempPathFor(name: string): string {
    return path.join(this.dir, `.${name}.${TEMP_TAG}${(++tempSeq).toString(36)}${TEMP_SUFFIX}`);
  }

  private async unlinkChecked(name: string, ifSha256: string | undefined): Promise<boolean> {
    const full = this.pathOf(name);
    if (ifSha256 !== undefined) {
      const current = await this.shaOf(name);
      if (current === null) return false;
      if (current !== ifSha256)
        throw new DataApiError('PRECONDITION_FAILED', `${name} holds ${current}, not ${ifSha256}`, { name, sha256: current });
    }
    try {
      await unlink(full);
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') {
        this.index.forget(name);
        return false;
      }
      throw err;
    }
    this.index.forget(name);
    return true;
  }

  /** The checksum of a stored file: from the index when lstat shows the identity it was computed for (no open). */
  private async shaOf(name: string): Promise<string | null> {
    const st = await lstat(this.pathOf(name)).catch((err: unknown) => {
      if (errnoOf(err) === 'ENOENT') return null;
      throw err;
    });
    if (!st?.isFile()) return null;
    return this.index.cachedSha(name, identity(st)) ?? (await this.stat(name))?.sha256 ?? null;
  }

  /** One page of stored files sorted by name (UTF-16 code unit order), with checksums. */
  async list(after: string | null, limit: number): Promise<{ files: TFileEntry[]; next: string | null }> {
    // The directory, not the index, is the truth for a listing: exact even while other writers share the folder.
    const names = (await readdir(this.dir, { withFileTypes: true }))
      .filter((e) => e.isFile() && fileNameProblem(e.name) === null && (after === null || e.name > after))
      .map((e) => e.name)
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const page = names.slice(0, limit);
    const files: TFileEntry[] = [];
    for (let i = 0; i < page.length; i += STAT_BATCH) {
      const got = await Promise.all(page.slice(i, i + STAT_BATCH).map((n) => this.stat(n)));
      for (const f of got) if (f) files.push(f); // gone since the readdir: simply not listed
    }
    return { files, next: names.length > limit ? (page[page.length - 1] ?? null) : null };
  }

  /**
   * Gives the temp file its final name without ever replacing one: link() fails with EEXIST where rename() would
   * overwrite. EEXIST with the same content is an idempotent success; filesystems without hard links fall back
   * to check-then-rename.
   */
  private async publish(tempPath: string, finalPath: string, name: string, want: WriteExpectation): Promise<boolean> {
    try {
      await link(tempPath, finalPath);
    } catch (err) {
      const code = errnoOf(err);
      if (code === 'EEXIST') {
        await this.assertSameContent(name, want);
        await unlink(tempPath);
        return false;
      }
      if (code === undefined || !NO_HARDLINK.has(code)) throw err;
      if (await this.stat(name)) {
        await this.assertSameContent(name, want);
        await unlink(tempPath);
        return false;
      }
      await rename(tempPath, finalPath);
      return true;
    }
    await unlink(tempPath);
    return true;
  }

  /** Passes when `name` holds exactly the expected content; CONFLICT otherwise. */
  async assertSameContent(name: string, want: { sha256: string; sizeBytes: number }): Promise<void> {
    const current = await this.stat(name);
    if (current && current.sha256 === want.sha256 && current.sizeBytes === want.sizeBytes) return;
    throw new DataApiError('CONFLICT', `${JSON.stringify(name)} already exists with different content`, {
      name,
      ...(current ? { sha256: current.sha256, sizeBytes: current.sizeBytes } : {}),
    });
  }
}
