/**
 * The work a move owes once it is past its commit point, or ended before it, over the storage port: committed
 * moves are settled (znodes written, source copies deleted, journal cleaned), and the copies ended moves may have
 * left on their targets are deleted. Both are safe to ask again: the retry queues and recovery do.
 */
import { AppError, isAppError, type FileRecord } from '@zkha/core';
import { completeMigrations, pathsOfFiles, updateMigrations, type Db, type MigrationRecord } from '@zkha/db';
import type { FileStoragePort } from '@zkha/storage';

import type { FileMetadataRegistry } from '../files/file-metadata.ts';
import type { Clock } from '../shared/clock.ts';
import { where } from './location.ts';
import type { OpenTasks } from './open-tasks.ts';
import type { BatchPoint } from './reports.ts';
import { groupBy } from './retry-queue.ts';

export class MoveSettlement {
  constructor(
    private readonly deps: {
      db: Db;
      clock: Clock;
      storage: FileStoragePort;
      metadata: FileMetadataRegistry;
      tasks: OpenTasks;
      /** How a target pulls a file again (the bandwidth cap, and whether it may hard-link). */
      pullOptions: () => { bytesPerSec: number | null; link: boolean };
      /** A move was settled: it is owed nothing more. */
      settled: (id: number) => void;
    },
  ) {}

  /**
   * Finishes committed moves (the database already names their targets): the znodes are written in multis, the
   * source copies deleted (each only if it holds the moved content), and the journal says `cleaned`. With `verify`
   * (recovery, retries), a target that lacks the file gets it from the source first, so the source is never
   * deleted while it holds the only copy, and a source location a file row claims is never touched.
   */
  async settle(
    items: readonly { row: MigrationRecord; file: FileRecord | null }[],
    opts: { seconds?: () => number; verify: boolean; point?: (p: BatchPoint) => Promise<void> },
  ): Promise<void> {
    if (items.length === 0) return;
    await this.deps.metadata.putMany(items.flatMap((i) => (i.file ? [i.file] : [])));
    await opts.point?.('published');
    let rows = items.map((i) => i.row);
    if (opts.verify) {
      rows = await this.withTargetCopy(rows);
      const claimed = pathsOfFiles(
        this.deps.db,
        rows.map((r) => r.sourcePath),
      );
      rows = rows.filter((r) => !claimed.has(r.sourcePath));
    }
    for (const [node, group] of groupBy(rows, (r) => where(r.sourcePath).node)) {
      const results = await this.deps.storage.deleteMany(
        node,
        group.map((r) => ({ name: where(r.sourcePath).name, ifSha256: r.sha256 })),
      );
      // PRECONDITION_FAILED: the name holds other bytes now, not the moved file's: not ours to delete.
      const stuck = results.find((x) => !x.ok && x.code !== 'PRECONDITION_FAILED');
      if (stuck && !stuck.ok) throw new AppError('STORAGE_ERROR', `could not delete ${stuck.name} on ${node}: ${stuck.message}`, { node });
    }
    await opts.point?.('removed');
    const ids = items.map((i) => i.row.id);
    this.deps.tasks.updateMany(
      items.map((i) => i.row),
      { status: 'completed', phase: 'cleaned', error: null },
      () => completeMigrations(this.deps.db, ids, this.deps.clock.now().toISOString(), opts.seconds?.()),
    );
    for (const id of ids) this.deps.settled(id);
  }

  /**
   * The committed moves whose target holds the file, after pulling again any whose target lacks it while the
   * source still has it (a target that lost the copy after the commit). A move whose bytes are on neither is left
   * out: its source must not be touched, and the consistency check reports the file.
   */
  private async withTargetCopy(rows: readonly MigrationRecord[]): Promise<MigrationRecord[]> {
    const { storage } = this.deps;
    const ok: MigrationRecord[] = [];
    const again: MigrationRecord[] = [];
    for (const r of rows) {
      const t = where(r.targetPath);
      if ((await storage.stat(t.node, t.name))?.sha256 === r.sha256) ok.push(r);
      else if ((await storage.stat(r.source, where(r.sourcePath).name))?.sha256 === r.sha256) again.push(r);
    }
    for (const group of groupBy(again, (r) => `${r.source}\u0000${r.target}`).values()) {
      const { results } = await storage.pull(
        group[0]!.target,
        group[0]!.source,
        group.map((r) => ({ name: r.name, sha256: r.sha256, sizeBytes: r.bytes })),
        this.deps.pullOptions(),
      );
      results.forEach((res, i) => {
        if (res.ok) ok.push(group[i]!);
      });
    }
    return ok;
  }

  /**
   * Deletes the copies ended moves may have left on their targets (their phase says `copying` or `copied` though
   * they are failed or cancelled), each only if it holds the moved content and no file row claims its name (the
   * file may have moved there since, by another move). Returns the moves whose target still does not answer.
   */
  async cleanupCopies(rows: readonly MigrationRecord[]): Promise<MigrationRecord[]> {
    const { db, storage } = this.deps;
    const left: MigrationRecord[] = [];
    const claimed = pathsOfFiles(
      db,
      rows.map((r) => r.targetPath),
    );
    for (const [node, group] of groupBy(rows, (r) => r.target)) {
      const mine = group.filter((r) => !claimed.has(r.targetPath));
      try {
        const results = await storage.deleteMany(
          node,
          mine.map((r) => ({ name: where(r.targetPath).name, ifSha256: r.sha256 })),
        );
        const stuck = new Set(results.filter((x) => !x.ok && x.code !== 'PRECONDITION_FAILED').map((x) => x.name));
        const done = group.filter((r) => !stuck.has(r.name));
        left.push(...group.filter((r) => stuck.has(r.name)));
        updateMigrations(
          db,
          done.map((r) => r.id),
          { phase: 'planned' },
        );
      } catch (err) {
        if (!(isAppError(err) && (err.code === 'STORAGE_UNAVAILABLE' || err.code === 'STORAGE_ERROR'))) throw err;
        left.push(...group);
      }
    }
    return left;
  }
}
