/**
 * Deletes from the folder, one file or a batch, each optionally only if it still holds a given checksum: the checks,
 * the unlinks, one directory fsync after them; and the names a batch is unlinking right now, which no publish may
 * take meanwhile.
 */
import { lstatSync, type Stats } from 'node:fs';
import { lstat, unlink } from 'node:fs/promises';

import { normaliseSha256, type TFileEntry } from '@zkha/storage';

import { DataApiError, errnoOf, isDataApiError } from './data-api-error.ts';
import { identity, STAT_BATCH, TimeSlice, type GroupCommit } from './disk-io.ts';
import type { FolderIndex } from './folder-index.ts';

/** What deleting needs of the folder it deletes from (an AgentFolder). */
export interface RemovalFolder {
  readonly index: FolderIndex;
  pathOf(name: string): string;
  stat(name: string): Promise<TFileEntry | null>;
}

/** Deletes an AgentFolder's files: its remove and removeMany. */
export class Remover {
  /** Names checked by a batched delete whose unlink is on the threadpool: no publish may take them meanwhile. */
  private readonly deleting = new Set<string>();

  /** `dirSync` is the folder's directory fsync, shared with its publishes. */
  constructor(
    private readonly folder: RemovalFolder,
    private readonly dirSync: GroupCommit,
  ) {}

  /** Whether a batched delete has checked `name` and is unlinking it. */
  isDeleting(name: string): boolean {
    return this.deleting.has(name);
  }

  /** AgentFolder.remove's work. */
  async remove(name: string, ifSha256?: string): Promise<boolean> {
    const deleted = await this.unlinkChecked(name, ifSha256);
    if (deleted) await this.dirSync.run();
    return deleted;
  }

  /**
   * AgentFolder.removeMany's work. The checks (lstat, the cached checksum) are synchronous; the unlinks of each chunk
   * then go to the threadpool together: measured during a rebalance, an unlink on the source waits ~90 µs for the
   * journal (the targets' syncs) against ~8 µs alone, and made one after the other on the event loop those waits
   * added up and held up the source's reads.
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
    const full = this.folder.pathOf(name);
    let st: Stats;
    try {
      st = lstatSync(full);
    } catch (err) {
      if (errnoOf(err) !== 'ENOENT') throw err;
      this.folder.index.forget(name);
      return false;
    }
    if (!st.isFile()) return ifSha256 === undefined ? undefined : false;
    if (ifSha256 !== undefined) {
      const current = this.folder.index.cachedSha(name, identity(st));
      if (current === null) return undefined;
      if (current !== ifSha256)
        throw new DataApiError('PRECONDITION_FAILED', `${name} holds ${current}, not ${ifSha256}`, { name, sha256: current });
    }
    return 'unlink';
  }

  /** Unlinks a name already checked; false when it was gone meanwhile. */
  private async unlinkKnown(name: string): Promise<boolean> {
    try {
      await unlink(this.folder.pathOf(name));
    } catch (err) {
      if (errnoOf(err) !== 'ENOENT') throw err;
      this.folder.index.forget(name);
      return false;
    }
    this.folder.index.forget(name);
    return true;
  }

  private async unlinkChecked(name: string, ifSha256: string | undefined): Promise<boolean> {
    const full = this.folder.pathOf(name);
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
        this.folder.index.forget(name);
        return false;
      }
      throw err;
    }
    this.folder.index.forget(name);
    return true;
  }

  /** The checksum of a stored file: from the index when lstat shows the identity it was computed for (no open). */
  private async shaOf(name: string): Promise<string | null> {
    const st = await lstat(this.folder.pathOf(name)).catch((err: unknown) => {
      if (errnoOf(err) === 'ENOENT') return null;
      throw err;
    });
    if (!st?.isFile()) return null;
    return this.folder.index.cachedSha(name, identity(st)) ?? (await this.folder.stat(name))?.sha256 ?? null;
  }
}
