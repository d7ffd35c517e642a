/**
 * Moves left owing something, each retried until done: committed moves whose ZooKeeper update or source removal
 * failed (`unsettled`), ended moves whose target owes the delete of a copy (`owedCleanups`), and moves a batch left
 * unsure (`unsure`), which recovery resolves once their agents answer. Also the engine's recovery before it starts.
 */
import { getFile, getMigration, listOpenMigrations, listUnsettledMigrations, updateMigrations, type MigrationRecord } from '@zkha/db';

import type { OpenTasks } from './open-tasks.ts';
import { recoverRows, type RecoveryPort } from './recovery.ts';
import type { RecoveryReport } from './reports.ts';
import { RetryQueue } from './retry-queue.ts';

/** The engine's adapters recovery reads (MigrationEngine's deps, passed whole). */
export type ResolutionDeps = Omit<RecoveryPort, 'cleanupCopies' | 'settle' | 'recordMoves' | 'countNodes' | 'owedCleanups' | 'unsettled'>;

/** The engine's parts resolution works with, bound late: most are built after it. */
export interface ResolutionParts {
  tasks: OpenTasks;
  /** Settling committed moves and cleaning up after ended ones (MoveSettlement). */
  settle: RecoveryPort['settle'];
  cleanupCopies: RecoveryPort['cleanupCopies'];
  /** The audit record of moves and their nodes' file counts (BatchRunner). */
  recordMoves: RecoveryPort['recordMoves'];
  countNodes: RecoveryPort['countNodes'];
  /** Admission orders the pending tasks again, and looks at the queue now. */
  reorder: () => void;
  kick: () => void;
  /** The bus notices (MigrationNotices): progress, and files that changed. */
  progress: () => void;
  filesChanged: () => void;
}

export class MoveResolution {
  /**
   * Moves a batch left unsure (something failed unexpectedly mid-batch): they stay in the journal as they are, which
   * keeps their files out of new plans, and recovery resolves them once the agents answer, retried every second.
   */
  readonly unsure = new RetryQueue(
    async (rows) => {
      const { left } = await this.recoverRows(rows.map((r) => getMigration(this.deps.db, r.id) ?? r));
      this.parts.tasks.reset();
      this.parts.reorder();
      this.parts.kick();
      return left;
    },
    1000,
    () => this.parts.progress(),
  );
  /** Committed moves whose ZooKeeper update or source removal failed: retried until they are cleaned. */
  readonly unsettled = new RetryQueue(
    async (rows) => {
      await this.parts.settle(
        rows.map((row) => ({ row, file: getFile(this.deps.db, row.uuid) })),
        { verify: true },
      );
      this.parts.filesChanged();
      return [];
    },
    1000,
    () => this.parts.progress(),
  );
  /** Ended moves whose target owes the delete of a copy they may have left (it did not answer): retried until done. */
  readonly owedCleanups = new RetryQueue(
    (rows) => this.parts.cleanupCopies(rows),
    2000,
    () => this.parts.progress(),
  );

  constructor(
    private readonly deps: ResolutionDeps,
    private readonly parts: ResolutionParts,
  ) {}

  start(): void {
    this.unsettled.start(0);
    this.unsure.start();
    this.owedCleanups.start();
  }

  stop(): void {
    for (const q of [this.unsettled, this.unsure, this.owedCleanups]) q.stop();
  }

  /** Moves a batch that failed unexpectedly left mid-way: marked with why, and resolved by recovery (see `unsure`). */
  resolveLater(rows: readonly MigrationRecord[], message: string): void {
    const { tasks } = this.parts;
    this.unsure.add(
      rows
        .filter((r) => tasks.open().get(r.id)?.status === 'running')
        .map((r) => tasks.update(r.id, { error: `waiting to be resolved: ${message}` })),
    );
  }

  /** What a crash left mid-way, before the engine starts (see MigrationEngine.recover). */
  async recover(): Promise<RecoveryReport> {
    const { db } = this.deps;
    const { report, left } = await this.recoverRows(listUnsettledMigrations(db));
    // Tasks marked running whose copy had not begun (phase planned) simply go back to the queue.
    const started = listOpenMigrations(db).filter((m) => m.status === 'running' && m.phase === 'planned');
    updateMigrations(
      db,
      started.map((m) => m.id),
      { status: 'pending' },
    );
    report.requeued += started.length;
    this.parts.tasks.reset();
    this.parts.reorder();
    this.unsure.add(left);
    return report;
  }

  /** Resolves journal rows a crash or a failure left mid-way (see recoverRows in recovery.ts). */
  private recoverRows(rows: readonly MigrationRecord[]): Promise<{ report: RecoveryReport; left: MigrationRecord[] }> {
    const { settle, cleanupCopies, recordMoves, countNodes } = this.parts;
    return recoverRows(
      { ...this.deps, cleanupCopies, settle, recordMoves, countNodes, owedCleanups: this.owedCleanups, unsettled: this.unsettled },
      rows,
    );
  }
}
