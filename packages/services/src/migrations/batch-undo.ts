import { getMigration, type Db, type MigrationRecord } from '@zkha/db';
import type { FileStoragePort } from '@zkha/storage';

import type { OperationsService } from '../logs/operations.ts';
import type { Clock } from '../shared/clock.ts';
import { errMessage } from './location.ts';
import type { OpenTasks } from './open-tasks.ts';

/** The engine's adapters and callbacks that ending a move uses (a subset of BatchRunner's deps). */
export interface BatchUndoDeps {
  db: Db;
  storage: FileStoragePort;
  operations: OperationsService;
  clock: Clock;
  mayAct?: () => boolean;
  onMigration?: (result: 'success' | 'failed') => void;
}

/** The engine's parts that ending a move uses (a subset of BatchRunner's parts). */
export interface BatchUndoParts {
  tasks: OpenTasks;
  /** Ended moves whose target owes the delete of a copy. */
  owedCleanups: { add(rows: readonly MigrationRecord[]): void };
  /** Whether the engine is stopped (an undone move then goes back to pending). */
  stopped: () => boolean;
}

/**
 * Ends a batch's moves before their commit point, the file whole on its source: takes back the copies placed on
 * the target, and ends the moves cancelled, failed, or back to pending when the engine is stopping.
 */
export class BatchUndo {
  constructor(
    private readonly deps: BatchUndoDeps,
    private readonly parts: BatchUndoParts,
  ) {}

  /**
   * Takes back what a batch placed on its target before the commit point: the copies are deleted there (only that
   * content: a file that took the name meanwhile stays), and the moves end failed with `message`, or cancelled
   * (back to pending when the engine is stopping) when `message` is null. The file is whole on its source either
   * way. A target that does not answer keeps its phase (`copying`): the copy it may hold is deleted once it
   * answers again (cleanupCopies, retried, and by recovery at the next start), so the move ends now all the same.
   */
  async undo(rs: readonly { row: MigrationRecord }[], message: string | null): Promise<void> {
    if (rs.length === 0) return;
    const { target } = rs[0]!.row;
    if (this.deps.mayAct?.() === false) {
      // The lead is not confirmed: nothing is deleted (the new leader may be moving the same files). The shared
      // journal names this batch; whoever leads takes its copies back.
      this.endMoves(
        rs.map((r) => r.row),
        message,
        'copying',
        ` (any copy on ${target} is taken back by the leader)`,
      );
      return;
    }
    let owed: string | null = null;
    try {
      const results = await this.deps.storage.deleteMany(
        target,
        rs.map((r) => ({ name: r.row.name, ifSha256: r.row.sha256 })),
      );
      const stuck = results.filter((x) => !x.ok && x.code !== 'PRECONDITION_FAILED');
      if (stuck.length > 0) owed = `${stuck.length} copies could not be deleted on ${target}: ${stuck[0]!.ok ? '' : stuck[0]!.message}`;
    } catch (err) {
      owed = errMessage(err);
    }
    const note = owed === null ? '' : ` (any copy on ${target} is deleted once its agent answers: ${owed})`;
    const ended = this.endMoves(
      rs.map((r) => r.row),
      message,
      owed === null ? 'planned' : 'copying',
      note,
    );
    if (owed !== null && !this.parts.stopped()) this.parts.owedCleanups.add(ended);
  }

  /**
   * Ends moves before their commit point, the file whole on its source: back to pending when the engine is
   * stopping, else cancelled (`message` null) or failed with `message`. `phase` stays `copying` while a copy on
   * the target may still be owed a delete; `note` says so.
   */
  endMoves(rows: readonly MigrationRecord[], message: string | null, phase: 'planned' | 'copying', note = ''): MigrationRecord[] {
    if (rows.length === 0) return [];
    if (this.parts.stopped())
      return this.parts.tasks.updateMany(rows, { status: 'pending', phase, bytesDone: 0, error: null, finishedAt: null });
    if (message === null)
      return this.parts.tasks.updateMany(rows, {
        status: 'cancelled',
        phase,
        bytesDone: 0,
        error: note === '' ? null : note.trim(),
        finishedAt: this.deps.clock.now().toISOString(),
      });
    for (const r of rows) this.fail(r, `${message}${note}`, phase);
    return rows.map((r) => getMigration(this.deps.db, r.id) ?? r);
  }

  /** A move that cannot be done: back to `planned` with its error, the file whole on its source. */
  fail(row: MigrationRecord, message: string, phase: 'planned' | 'copying' = 'planned'): void {
    this.parts.tasks.update(row.id, {
      status: 'failed',
      phase,
      bytesDone: 0,
      error: message,
      finishedAt: this.deps.clock.now().toISOString(),
    });
    this.deps.onMigration?.('failed');
    this.deps.operations.record({
      action: 'migration_failed',
      node: row.source,
      status: 'failed',
      details: { id: row.id, uuid: row.uuid, error: message },
    });
  }
}
