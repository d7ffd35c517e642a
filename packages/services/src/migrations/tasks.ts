import {
  checkManualMove,
  type ManualMove,
  type TFileMigrateInput,
  type TMigrationTaskAddInput,
  type TMigrationTaskUpdateInput,
} from '@zkha/core';
import { getFile, type Db, type MigrationRecord } from '@zkha/db';

import type { FileIndex } from '../files/file-index.ts';
import type { MigrationEngine } from './engine.ts';
import type { MigrationStatusReport } from './reports.ts';

/** Priority of a file an operator moves by hand (files.migrate): above anything a plan queues. */
export const MANUAL_MOVE_PRIORITY = 10;

/**
 * An operator's own work on the migration queue: move one chosen file to one chosen node, add one task (the
 * seed's `add_migration_task`), change a queued task's priority or deadline, and the seed's status figures.
 * Every move is checked against the same rules (checkManualMove) with the facts as they are now, then queued on
 * the engine: journaled and run under the caps like any move.
 */
export class MigrationTasksService {
  constructor(
    private readonly deps: {
      db: Db;
      index: FileIndex;
      engine: Pick<MigrationEngine, 'addTask' | 'updateTask' | 'openMigrations' | 'status'>;
      /** The storage nodes files may be placed on (a live list). */
      nodes: readonly string[];
      drainedNodes: () => ReadonlySet<string>;
      offlineNodes: () => readonly string[];
      capacityOf: (node: string) => number | null;
      /** SCHEDULER_HIGH_WATERMARK, as the scheduler holds it now. */
      highWatermark: () => number;
    },
  ) {}

  /** `files.migrate`: the file to `target` at priority 10. Returns the queued task. */
  moveFile(input: TFileMigrateInput): MigrationRecord {
    const move = this.check(input.uuid, input.target);
    return this.deps.engine.addTask(move, { priority: MANUAL_MOVE_PRIORITY, origin: 'manual', via: 'files.migrate' });
  }

  /** `migrations.addTask`: one move from `source`, refused as stale when the file is elsewhere. */
  addTask(input: TMigrationTaskAddInput): MigrationRecord {
    const move = this.check(input.uuid, input.target, input.source);
    return this.deps.engine.addTask(move, {
      priority: input.priority,
      deadline: input.deadline ?? null,
      origin: 'manual',
      via: 'migrations.addTask',
    });
  }

  /** `migrations.updateTask`: a pending or paused task's priority or deadline. */
  updateTask(input: TMigrationTaskUpdateInput): MigrationRecord {
    return this.deps.engine.updateTask(input.id, {
      ...(input.priority !== undefined ? { priority: input.priority } : {}),
      ...(input.deadline !== undefined ? { deadline: input.deadline } : {}),
    });
  }

  status(): MigrationStatusReport {
    return this.deps.engine.status();
  }

  private check(uuid: string, target: string, source?: string): ManualMove {
    const { db, engine, index } = this.deps;
    const file = getFile(db, uuid);
    const open = engine.openMigrations();
    const moving = open.find((m) => m.uuid === uuid) ?? null;
    // Moves toward the target that have not committed yet will land there too (committed ones are counted already).
    const incoming = open
      .filter((m) => m.target === target && m.phase !== 'committed' && m.phase !== 'cleaned')
      .reduce((a, m) => a + m.bytes, 0);
    return checkManualMove({
      uuid,
      target,
      ...(source !== undefined ? { source } : {}),
      file: file ? { name: file.name, node: file.node, sizeBytes: file.sizeBytes } : null,
      nodes: this.deps.nodes,
      drained: this.deps.drainedNodes(),
      offline: this.deps.offlineNodes(),
      openMigration: moving ? { id: moving.id, status: moving.status, source: moving.source, target: moving.target } : null,
      targetBytes: index.usage(target).bytes + incoming,
      targetCapacityBytes: this.deps.nodes.includes(target) ? this.deps.capacityOf(target) : null,
      highWatermark: this.deps.highWatermark(),
    });
  }
}
