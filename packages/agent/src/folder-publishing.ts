/**
 * Publishing, the second half of every write into the folder: staged files are made durable, a group at once, and
 * only then get their real names, through link(), which never replaces an existing file; one directory fsync
 * follows. A name already holding the same content is success, other content is CONFLICT.
 */
import { execFile } from 'node:child_process';
import { lstatSync, renameSync } from 'node:fs';
import { link, open, rename, rm, unlink } from 'node:fs/promises';

import type { TFileEntry } from '@zkha/storage';

import { DataApiError, errnoOf, isDataApiError } from './data-api-error.ts';
import { GroupCommit, STAT_BATCH, SYNC_ENV, TimeSlice } from './disk-io.ts';
import type { FolderIndex } from './folder-index.ts';
import type { StagedFile, WriteExpectation } from './folder-staging.ts';

/** From this many files on, one syncfs makes a group durable rather than an fsync each. */
const SYNCFS_MIN_FILES = 8;
// link() errors meaning "no hard links on this filesystem": fall back to check-then-rename.
const NO_HARDLINK = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EMLINK']);

/** What publishing needs of the folder it names files in (an AgentFolder). */
export interface PublishingFolder {
  readonly dir: string;
  readonly opts: { readonly node: string };
  readonly index: FolderIndex;
  pathOf(name: string): string;
  stat(name: string): Promise<TFileEntry | null>;
  assertSameContent(name: string, want: { sha256: string; sizeBytes: number }): Promise<void>;
}

/** Names an AgentFolder's staged files: its publishStaged. */
export class Publisher {
  /** Whether `sync -f` (syncfs) works here; null until tried. */
  private syncfsWorks: boolean | null = null;
  /** syncfs of the folder's filesystem (`sync -f`), shared by the groups that ask at about the same time. */
  // A small environment: copying the agent's whole environment for each spawn was ~40% of the spawn's cost.
  private readonly fsSync = new GroupCommit(
    () =>
      new Promise<void>((resolve, reject) =>
        execFile('sync', ['-f', this.folder.dir], { timeout: 120_000, env: SYNC_ENV }, (err: Error | null) =>
          err ? reject(err) : resolve(),
        ),
      ),
  );

  /** `dirSync` is the folder's directory fsync, shared with its deletes; `isDeleting` tells the names a batched delete is unlinking. */
  constructor(
    private readonly folder: PublishingFolder,
    private readonly dirSync: GroupCommit,
    private readonly isDeleting: (name: string) => boolean,
  ) {}

  /** AgentFolder.publishStaged's work: durable, then named one by one, then one directory fsync. */
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
        if (this.isDeleting(f.name))
          throw new DataApiError('CONFLICT', `${f.name} is being deleted on ${this.folder.opts.node}: try again`, { name: f.name });
        const finalPath = this.folder.pathOf(f.name);
        const made = this.publishSync(f.tempPath, finalPath) || (await this.publish(f.tempPath, finalPath, f.name, f));
        if (made) {
          this.folder.index.record(f.name, f.id, f.sha256);
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
        await this.folder.assertSameContent(name, want);
        await unlink(tempPath);
        return false;
      }
      if (code === undefined || !NO_HARDLINK.has(code)) throw err;
      if (await this.folder.stat(name)) {
        await this.folder.assertSameContent(name, want);
        await unlink(tempPath);
        return false;
      }
      await rename(tempPath, finalPath);
      return true;
    }
    await unlink(tempPath);
    return true;
  }
}
