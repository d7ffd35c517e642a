import { randomUUID } from 'node:crypto';

import { AppError, type PlannedMove } from '@zkha/core';
import { getMigration, getMigrationSources, insertMigrations, type Db, type MigrationPatch, type MigrationRecord } from '@zkha/db';
import { locationOf } from '@zkha/storage';

import type { OperationsService } from '../logs/operations.ts';
import type { Clock } from '../shared/clock.ts';
import type { AppEvents } from '../shared/event-bus.ts';
import type { Admission } from './admission.ts';
import type { MigrationNotices } from './notices.ts';
import type { OpenTasks } from './open-tasks.ts';
import type { MigrationOrigin, MigrationProgress } from './reports.ts';
import { moveKey, type SharedMigrationJournal, type SharedMove } from './shared-journal.ts';

/** The engine's adapters the queue writes through (a subset of MigrationEngine's deps). */
export interface QueueDeps {
  db: Db;
  clock: Clock;
  operations: OperationsService;
  events: AppEvents;
  shared?: SharedMigrationJournal | null;
}

/** The engine's parts the queue works with. */
export interface QueueParts {
  tasks: OpenTasks;
  notices: MigrationNotices;
  admission: Admission;
  /** Moves waiting to be resolved by recovery: a cancel leaves them to it. */
  unsure: { has(id: number): boolean };
  progress: () => MigrationProgress;
}

/**
 * The queue of moves, in the journal and in memory: queueing a plan's moves (and a follower's view of the leader's
 * queue, and moves adopted from the shared journal), an operator's added or changed task, pause and resume of one
 * task, and cancel. What starts, and when, is admission's.
 */
export class MigrationQueue {
  private readonly tasks: OpenTasks;
  private readonly notices: MigrationNotices;

  constructor(
    private readonly deps: QueueDeps,
    private readonly parts: QueueParts,
  ) {
    this.tasks = parts.tasks;
    this.notices = parts.notices;
  }

  /** Files with an open migration, which planners must not pick again. */
  busyFiles(): Set<string> {
    return new Set([...this.tasks.open().values()].map((m) => m.uuid));
  }

  /**
   * Queues a plan's moves (skipping files already queued). Returns the new tasks. `origin` (default `manual`)
   * says who asked: the automatic scheduler passes `auto`, and each move's operation says so when it commits.
   */
  enqueue(
    moves: readonly PlannedMove[],
    opts: { planId?: string; priority?: number; deadline?: string | null; origin?: MigrationOrigin } = {},
  ): MigrationRecord[] {
    const planId = opts.planId ?? randomUUID();
    const inserted = this.insertTasks(moves, planId, opts);
    if (inserted.length > 0) {
      this.deps.operations.record({
        action: 'migration_plan',
        status: 'success',
        details: { planId, moves: inserted.length, bytes: inserted.reduce((a, r) => a + r.bytes, 0), origin: opts.origin ?? 'manual' },
      });
    }
    this.parts.admission.kick();
    return inserted;
  }

  /** Journals moves as pending tasks (one transaction), skipping files already queued or no longer at the plan's source. */
  insertTasks(
    moves: readonly PlannedMove[],
    planId: string,
    opts: { priority?: number; deadline?: string | null; origin?: MigrationOrigin; journal?: boolean },
  ): MigrationRecord[] {
    const { db, clock } = this.deps;
    const busy = this.busyFiles();
    const now = clock.now().toISOString();
    const sources = getMigrationSources(
      db,
      moves.filter((m) => !busy.has(m.uuid)).map((m) => m.uuid),
    );
    const rows = [];
    for (const m of moves) {
      const file = sources.get(m.uuid);
      if (busy.has(m.uuid) || !file || file.node !== m.from) continue; // queued already, or the plan is stale for this file
      busy.add(m.uuid);
      rows.push({
        planId,
        uuid: file.uuid,
        name: file.name,
        source: m.from,
        target: m.to,
        bytes: file.sizeBytes,
        sha256: file.sha256,
        sourcePath: locationOf(m.from, file.name),
        targetPath: locationOf(m.to, file.name),
        // The agents keep their own temp files (invisible, removed on failure): the journal needs none.
        tempPath: '',
        priority: Math.min(10, Math.max(1, opts.priority ?? 5)),
        deadline: opts.deadline ?? null,
        status: 'pending' as const,
        phase: 'planned' as const,
        reason: m.reason,
        createdAt: now,
        origin: opts.origin ?? 'manual',
      });
    }
    const inserted = insertMigrations(db, rows);
    for (const r of inserted) this.tasks.open().set(r.id, r);
    this.parts.admission.reorder();
    // Shared with the other instances in the background: a batch names its moves itself before its first byte.
    if (opts.journal !== false) void this.deps.shared?.planned(inserted).catch(() => undefined);
    return inserted;
  }

  /**
   * A follower's view of the leader's queue: this instance's journal is made to show the moves the shared journal
   * holds (`open`: queued, or in a batch being copied), each under its own plan id, so the console and the API of
   * any instance show the same queue. Moves that left the shared journal end here too: completed when their file
   * is now at their target (`fileNode`), else cancelled ("ended on the leader"). Nothing is executed: a follower's
   * engine does not run.
   */
  projectShared(open: readonly { move: SharedMove; running: boolean }[], fileNode: (uuid: string) => string | null): void {
    const { db, clock } = this.deps;
    const now = clock.now().toISOString();
    const want = new Map(open.map((o) => [moveKey(o.move), o]));
    const have = new Map([...this.tasks.open().values()].map((r) => [moveKey(r), r]));
    const fresh = open.filter((o) => !have.has(moveKey(o.move)));
    if (fresh.length > 0) {
      for (const r of insertMigrations(
        db,
        fresh.map(({ move: m, running }) => ({
          planId: m.planId,
          uuid: m.uuid,
          name: m.name,
          source: m.from,
          target: m.to,
          bytes: m.bytes,
          sha256: m.sha256,
          sourcePath: locationOf(m.from, m.name),
          targetPath: locationOf(m.to, m.name),
          tempPath: '',
          priority: m.priority,
          deadline: m.deadline,
          status: running ? ('running' as const) : ('pending' as const),
          phase: running ? ('copying' as const) : ('planned' as const),
          reason: m.reason,
          createdAt: now,
          startedAt: running ? now : null,
          origin: m.origin,
        })),
      ))
        this.tasks.mirror(r);
    }
    const toRunning: MigrationRecord[] = [];
    const completed: MigrationRecord[] = [];
    const ended: MigrationRecord[] = [];
    for (const [key, row] of have) {
      const w = want.get(key);
      if (w) {
        if (w.running && row.status !== 'running') toRunning.push(row);
      } else if (fileNode(row.uuid) === row.target) completed.push(row);
      else ended.push(row);
    }
    this.tasks.updateMany(toRunning, { status: 'running', phase: 'copying', startedAt: now });
    this.tasks.updateMany(completed, { status: 'completed', phase: 'cleaned', finishedAt: now, error: null });
    this.tasks.updateMany(ended, {
      status: 'cancelled',
      finishedAt: now,
      error: 'ended on the leader (failed or cancelled there, or planned again)',
    });
    if (fresh.length + toRunning.length + completed.length + ended.length > 0 && this.deps.events.listenerCount('migrations') > 0) {
      this.deps.events.emit('migrations', this.parts.progress());
    }
  }

  /**
   * Queues moves another leader had queued (from the shared journal), under their own plan ids, priorities and
   * deadlines, without journaling them again. Moves whose file is already queued here, or no longer at the move's
   * source, are skipped. Returns the rows queued.
   */
  adopt(moves: readonly SharedMove[]): MigrationRecord[] {
    const groups = new Map<string, SharedMove[]>();
    for (const m of moves) {
      const key = JSON.stringify([m.planId, m.priority, m.deadline, m.origin]);
      groups.set(key, [...(groups.get(key) ?? []), m]);
    }
    const out: MigrationRecord[] = [];
    for (const group of groups.values()) {
      const { planId, priority, deadline, origin } = group[0]!;
      out.push(
        ...this.insertTasks(
          group.map((m) => ({ uuid: m.uuid, name: m.name, from: m.from, to: m.to, sizeBytes: m.bytes, reason: m.reason ?? 'adopted' })),
          planId,
          { priority, deadline, origin, journal: false },
        ),
      );
    }
    if (out.length > 0) this.parts.admission.kick();
    return out;
  }
  /**
   * Queues one move an operator asked for (a chosen file to a chosen node, or the seed's `add_migration_task`),
   * under the caps like every move, and records it (`migration_task_add`). The caller has checked the move
   * (checkManualMove); this refuses only what changed since: the file queued meanwhile, or no longer at `from`.
   */
  addTask(move: PlannedMove, opts: { priority: number; deadline?: string | null; origin?: MigrationOrigin; via: string }): MigrationRecord {
    const busy = [...this.tasks.open().values()].find((m) => m.uuid === move.uuid);
    if (busy)
      throw new AppError(
        'CONFLICT',
        `${move.name} is already moving: migration ${busy.id} (${busy.status}, ${busy.source} → ${busy.target})`,
        { uuid: move.uuid, migration: busy.id },
      );
    const before = this.tasks.open().size;
    const deadline = opts.deadline ? new Date(opts.deadline).toISOString() : null;
    const [row] = this.insertTasks([move], randomUUID(), { priority: opts.priority, deadline, origin: opts.origin ?? 'manual' });
    if (!row) throw new AppError('CONFLICT', `${move.name} is no longer on ${move.from}: the task is stale`, { uuid: move.uuid });
    this.deps.operations.record({
      action: 'migration_task_add',
      node: row.source,
      status: 'success',
      details: {
        id: row.id,
        uuid: row.uuid,
        name: row.name,
        source: row.source,
        target: row.target,
        bytes: row.bytes,
        priority: row.priority,
        deadline: row.deadline,
        origin: row.origin,
        via: opts.via,
      },
      beforeMetrics: { openTasks: before },
      afterMetrics: {
        openTasks: this.tasks.open().size,
        task: { id: row.id, status: row.status, priority: row.priority, deadline: row.deadline },
      },
    });
    this.parts.admission.kick();
    this.notices.progress();
    return row;
  }

  /**
   * Changes a queued (pending or paused) task's priority or deadline (null clears it); the queue is re-ordered
   * at once under the current policy. A task that started or finished cannot change: CONFLICT says its status.
   */
  updateTask(id: number, patch: { priority?: number; deadline?: string | null }): MigrationRecord {
    const open = this.tasks.open().get(id);
    if (!open) {
      const row = getMigration(this.deps.db, id);
      if (!row) throw new AppError('TASK_NOT_FOUND', `no migration ${id}`, { id });
      throw new AppError('CONFLICT', `migration ${id} is ${row.status}: only a pending or paused task can change`, {
        id,
        status: row.status,
      });
    }
    if (this.parts.admission.running.has(id) || (open.status !== 'pending' && open.status !== 'paused')) {
      throw new AppError('CONFLICT', `migration ${id} is running: only a pending or paused task can change`, { id, status: 'running' });
    }
    const change: MigrationPatch = {
      ...(patch.priority !== undefined ? { priority: patch.priority } : {}),
      ...(patch.deadline !== undefined ? { deadline: patch.deadline === null ? null : new Date(patch.deadline).toISOString() } : {}),
    };
    const row = this.tasks.update(id, change);
    // The cached policy order no longer holds (mirror() only drops it for pending rows).
    this.parts.admission.reorder();
    this.deps.operations.record({
      action: 'migration_task_update',
      node: row.source,
      status: 'success',
      details: { id, uuid: row.uuid, name: row.name, status: row.status, patch: change },
      beforeMetrics: { priority: open.priority, deadline: open.deadline },
      afterMetrics: { priority: row.priority, deadline: row.deadline },
    });
    this.parts.admission.kick();
    this.notices.progress();
    return row;
  }
  /**
   * Cancels a task (or all open tasks). A running copy is stopped and its partial copy removed: the file stays
   * whole on its source. A move past its commit point is finished instead: it is a few file operations from done.
   */
  cancel(id?: number): number {
    const open = [...this.tasks.open().values()].filter((m) => id === undefined || m.id === id);
    if (id !== undefined && open.length === 0) {
      if (!getMigration(this.deps.db, id)) throw new AppError('TASK_NOT_FOUND', `no migration ${id}`);
      throw new AppError('CONFLICT', `migration ${id} has already finished`);
    }
    let n = 0;
    const idle: MigrationRecord[] = [];
    for (const m of open) {
      // Past the commit point a move is finished, not undone; a move waiting to be resolved is undone by recovery.
      if (m.phase === 'committed' || this.parts.unsure.has(m.id)) continue;
      const r = this.parts.admission.running.get(m.id);
      if (r) r.abort.abort();
      else idle.push(m);
      n++;
    }
    this.tasks.updateMany(idle, { status: 'cancelled', finishedAt: this.deps.clock.now().toISOString() });
    this.deps.operations.record({ action: 'migration_cancel', status: 'success', details: { id: id ?? 'all', cancelled: n } });
    this.notices.progress();
    return n;
  }

  setStatus(id: number, from: MigrationRecord['status'][], to: MigrationRecord['status']): void {
    const m = getMigration(this.deps.db, id);
    if (!m) throw new AppError('TASK_NOT_FOUND', `no migration ${id}`);
    if (!from.includes(m.status)) throw new AppError('CONFLICT', `migration ${id} is ${m.status}, not ${from.join(' or ')}`);
    this.tasks.update(id, { status: to });
    this.parts.admission.reorder();
  }
}
