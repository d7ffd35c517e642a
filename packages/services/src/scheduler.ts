import { buildPlan, planMoves, type PlanFile, type SchedulerPlan, type StrategyName, type TSchedulerConfigPatch, type WholePlan } from '@zkha/core';
import { getNodeStates, type Db } from '@zkha/db';
import type { FileStorage } from '@zkha/storage';

import type { Clock } from './clock.ts';
import type { AppEvents } from './events.ts';
import type { FileIndex } from './file-index.ts';
import type { FileMetadataRegistry } from './file-metadata.ts';
import type { MigrationEngine } from './migration-engine.ts';
import type { OperationsService } from './operations.ts';

export type SchedulerMode = 'one_per_tick' | 'whole_plan';

export interface SchedulerConfig {
  enabled: boolean;
  intervalSec: number;
  threshold: number;
  /** `whole_plan` (the default): plan the whole imbalance and queue it; `one_per_tick`: the seed's one move per round, for demonstrations. */
  mode?: SchedulerMode;
  strategy?: StrategyName;
  highWatermark?: number;
}

export interface RunResult {
  executed: boolean;
  /** In whole_plan mode: how many moves were queued on the migration engine. */
  queued?: number;
  before: SchedulerPlan;
  after: SchedulerPlan;
  /** Set when a move was attempted and failed; the file stays whole where it was. */
  error: string | null;
}

/** Serialises async work: two scheduler rounds must never pick the same file or both see stale counts. */
class Mutex {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.tail.then(fn, fn);
    this.tail = next.catch(() => undefined);
    return next;
  }
}

/**
 * The seed design's scheduler: plan one move (pure `buildPlan`), carry it out on disk, in SQLite and in
 * ZooKeeper, record it, and do that on an interval when enabled. Config changes apply at once.
 */
export class SchedulerService {
  private config: SchedulerConfig;
  private timer: NodeJS.Timeout | null = null;
  private readonly mutex = new Mutex();
  private stopped = true;

  constructor(
    private readonly deps: {
      db: Db;
      storage: FileStorage;
      metadata: FileMetadataRegistry;
      index: FileIndex;
      operations: OperationsService;
      events: AppEvents;
      clock: Clock;
      nodes: readonly string[];
      offlineNodes?: () => readonly string[];
      /** The migration engine: whole plans are queued on it, and the one-move round runs its move through it. */
      engine: Pick<MigrationEngine, 'enqueue' | 'busyFiles' | 'moveNow' | 'openMigrations'>;
      capacityOf?: (node: string) => number | null;
      /** Per-node share for the `weighted` strategy (null: 1). */
      weightOf?: (node: string) => number | null;
      /** Told of each attempted move, for the migrations counter. */
      onMigration?: (result: 'success' | 'failed') => void;
    },
    initial: SchedulerConfig,
  ) {
    this.config = { ...initial };
  }

  getConfig(): SchedulerConfig {
    return { ...this.config };
  }

  setConfig(patch: TSchedulerConfigPatch): SchedulerConfig {
    const before = this.getConfig();
    this.config = {
      ...this.config,
      enabled: patch.enabled ?? this.config.enabled,
      intervalSec: patch.intervalSec ?? this.config.intervalSec,
      threshold: patch.threshold ?? this.config.threshold,
      ...(patch.mode ? { mode: patch.mode } : {}),
      ...(patch.strategy ? { strategy: patch.strategy } : {}),
      ...(patch.highWatermark !== undefined ? { highWatermark: patch.highWatermark } : {}),
    };
    this.deps.operations.record({
      action: 'scheduler_config',
      status: 'success',
      details: { patch },
      beforeMetrics: { ...before },
      afterMetrics: { ...this.config },
    });
    if (!this.stopped) this.reschedule();
    this.deps.events.emit('changed', { kind: 'config' });
    return this.getConfig();
  }

  diagnostics(): SchedulerPlan {
    const { db, nodes, clock } = this.deps;
    return buildPlan({
      nodes,
      files: this.deps.index.list(),
      nodeStates: getNodeStates(db, nodes),
      threshold: this.config.threshold,
      offlineNodes: this.deps.offlineNodes?.() ?? [],
      now: clock.now(),
    });
  }

  /**
   * The whole imbalance as a list of moves (a dry run: nothing moves), with per-node figures before and after
   * and the balance score. Files already queued for migration are not picked again.
   */
  /**
   * Files with a move queued or running are counted on their target: they are as good as there, and counting
   * them on their source made every re-plan while a queue ran propose those moves' worth of extra moves.
   */
  private withMovesInFlight(files: readonly PlanFile[]): readonly PlanFile[] {
    const open = this.deps.engine.openMigrations();
    if (open.length === 0) return files;
    const target = new Map(open.map((m) => [m.uuid, m.target]));
    return files.map((f) => {
      const to = target.get(f.uuid);
      return to === undefined || to === f.node ? f : { ...f, node: to };
    });
  }

  dryRun(strategy: StrategyName = this.config.strategy ?? 'count'): WholePlan {
    const { db, nodes } = this.deps;
    const states = new Map(getNodeStates(db, nodes).map((s) => [s.node, s]));
    const offline = new Set(this.deps.offlineNodes?.() ?? []);
    return planMoves({
      strategy,
      nodes: nodes.map((n) => ({ node: n, drained: states.get(n)?.drained ?? false, offline: offline.has(n), capacityBytes: this.deps.capacityOf?.(n) ?? null, weight: this.deps.weightOf?.(n) ?? 1 })),
      files: this.withMovesInFlight(this.deps.index.list()),
      threshold: this.config.threshold,
      highWatermark: this.config.highWatermark ?? 0.9,
      excludeFiles: this.deps.engine?.busyFiles() ?? new Set(),
    });
  }

  /**
   * One round: in `whole_plan` mode (the default) plan the whole imbalance and queue it on the migration engine;
   * in `one_per_tick` mode (the seed's, kept for demonstrations) move at most one file, through the engine's
   * journal like any other move. Rounds never overlap.
   */
  run(trigger: 'auto' | 'manual' = 'manual'): Promise<RunResult> {
    return this.mutex.run(() => this.runLocked(trigger));
  }

  private async runLocked(trigger: 'auto' | 'manual'): Promise<RunResult> {
    const before = this.diagnostics();
    if ((this.config.mode ?? 'whole_plan') === 'whole_plan') {
      const plan = this.dryRun();
      const queued = plan.moves.length > 0 ? this.deps.engine.enqueue(plan.moves, { priority: 5 }) : [];
      this.deps.events.emit('plan', before);
      return { executed: queued.length > 0, queued: queued.length, before, after: before, error: null };
    }
    if (!before.shouldMigrate || before.candidate === null || before.sourceNode === null || before.targetNode === null) {
      this.deps.events.emit('plan', before);
      return { executed: false, before, after: before, error: null };
    }
    const { sourceNode, targetNode, candidate } = before;
    let error: string | null = null;
    let moved = false;
    try {
      // Journaled like every move (planned → copying → copied → committed → cleaned), so a crash mid-move is
      // finished or undone by the engine's recovery; the engine also records its history entry and ZooKeeper update.
      const task = await this.deps.engine.moveNow({ uuid: candidate.uuid, name: candidate.name, from: sourceNode, to: targetNode, sizeBytes: candidate.sizeBytes, reason: before.message });
      moved = task.status === 'completed';
      if (!moved) error = task.error ?? `the move ended ${task.status}`;
    } catch (err) {
      error = err instanceof Error ? err.message : String(err);
    }
    const after = this.diagnostics();
    this.deps.operations.record({
      action: 'auto_migrate',
      node: sourceNode,
      status: moved ? 'success' : 'failed',
      details: {
        trigger,
        file: candidate.name,
        uuid: candidate.uuid,
        from: sourceNode,
        to: targetNode,
        sizeBytes: candidate.sizeBytes,
        delta: before.delta,
        threshold: before.threshold,
        reason: before.reason,
        message: before.message,
        ...(error ? { error } : {}),
      },
      beforeMetrics: { counts: before.counts, delta: before.delta },
      afterMetrics: { counts: after.counts, delta: after.delta },
    });
    this.deps.events.emit('plan', after);
    return { executed: moved, before, after, error };
  }

  /** Starts the automatic loop; each round waits for the previous one, so a slow move never stacks rounds. */
  start(): void {
    this.stopped = false;
    this.reschedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private reschedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.stopped || !this.config.enabled) return;
    this.timer = setTimeout(() => {
      this.run('auto')
        .catch(() => undefined) // failures are recorded as operations; the loop keeps going
        .finally(() => this.reschedule());
    }, this.config.intervalSec * 1000);
    this.timer.unref();
  }
}
