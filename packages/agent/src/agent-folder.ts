/**
 * The disk side of the data API: the one folder this agent owns. Every write lands in a dot-prefixed `.part`
 * file, is checked (length and SHA-256) and fsynced, and only then gets its real name through link(), which
 * never replaces an existing file; so no reader, listing or crash ever sees half a file under a real name.
 * The two halves of a write are folder-staging.ts and folder-publishing.ts, deletes are folder-removal.ts; this
 * class owns the folder's state (its index, its filesystem, room and reservations) and its reads.
 */
import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, lstatSync, readSync } from 'node:fs';
import { lstat, mkdir, open, readdir, rm, stat, statfs, type FileHandle } from 'node:fs/promises';
import path from 'node:path';

import { fileNameProblem, TEMP_SUFFIX, type TFileEntry, type TProbe } from '@zkha/storage';

import { DataApiError, errnoOf } from './data-api-error.ts';
import { GroupCommit, hashHandle, identity, kernelId, openReadSync, STAT_BATCH, syncDir } from './disk-io.ts';
import { FolderIndex, type FileIdentity } from './folder-index.ts';
import { Publisher } from './folder-publishing.ts';
import { Remover } from './folder-removal.ts';
import { stageBytes, stageLink, stageStream, type StagedFile, type WriteExpectation } from './folder-staging.ts';
import { createProbe, seesProbe } from './same-host.ts';

export type { StagedFile, WriteExpectation } from './folder-staging.ts';

export interface AgentFolderOptions {
  node: string;
  dir: string;
  /** Configured capacity; null = the filesystem's size (the pre-capacity behaviour). */
  capacityBytes: number | null;
  maxFileBytes: number;
}

export class AgentFolder {
  readonly index = new FolderIndex();
  private filesystemId = '';
  private ownFilesystem = false;
  /**
   * fsync of the folder, shared by the publishes and deletes that ask at about the same time: on ext4 each one is a
   * journal commit of everything pending.
   */
  private readonly dirSync = new GroupCommit(() => syncDir(this.dir));
  private readonly remover = new Remover(this, this.dirSync);
  private readonly publisher = new Publisher(this, this.dirSync, (name) => this.remover.isDeleting(name));

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
    return stageStream(this.opts, name, source, want, opts);
  }

  /**
   * stage() for a small file whose bytes are all in memory (a frame of a multi-file read): verified before anything
   * is written, then written with synchronous calls (see SMALL_IO_BYTES). The data is not synced: publishStaged does.
   */
  stageSmall(name: string, chunks: readonly Uint8Array[], want: WriteExpectation): StagedFile {
    this.pathOf(name);
    return stageBytes(this.opts, name, chunks, want);
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
    return stageLink(this.opts, sourcePath, name, want);
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
   * The second half: makes the staged files durable (one filesystem sync for a group, see folder-publishing.ts), gives
   * each its name without replacing anything, then syncs the directory once. One outcome per file, in order: created,
   * or the error (CONFLICT: the name holds other content); a file that failed leaves no `.part` behind.
   */
  async publishStaged(files: readonly StagedFile[]): Promise<({ created: boolean } | DataApiError)[]> {
    return this.publisher.publishStaged(files);
  }

  /** Returns true if `name` was deleted, false if it was not there. `ifSha256` deletes only that content. */
  async remove(name: string, ifSha256?: string): Promise<boolean> {
    return this.remover.remove(name, ifSha256);
  }

  /**
   * remove() of many files with one directory sync; one outcome per file, in order. The unlinks of a batch run
   * together on the threadpool (folder-removal.ts says why).
   */
  async removeMany(files: readonly { name: string; sha256?: string }[]): Promise<(boolean | DataApiError)[]> {
    return this.remover.removeMany(files);
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
