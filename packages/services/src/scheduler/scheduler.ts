import {
  DEFAULT_HIGH_WATERMARK,
  RUN_WAIT_MS,
  explainPlan,
  planMoves,
  type PlanFile,
  type SchedulerPlan,
  type StrategyName,
  type TSchedulerConfigPatch,
  type WholePlan,
} from '@zkha/core';
import type { SchedulerMode } from '@zkha/core/schemas';
import { countPlanStatuses, getNodeStates, type Db } from '@zkha/db';
import { setTimeout as sleep } from 'node:timers/promises';

import type { Clock } from '../shared/clock.ts';
import type { AppEvents } from '../shared/event-bus.ts';
import type { FileIndex } from '../files/file-index.ts';
import type { MigrationEngine } from '../migrations/engine.ts';
import type { OperationsService } from '../logs/operations.ts';

export type { SchedulerMode };

/**
 * The scheduler's settings: the fields of the API's patch schema (core's ZSchedulerConfigPatchSchema, declared
 * once), of which these three always have a value. `mode` `whole_plan` (the default) plans the whole imbalance
 * and queues it; `one_per_tick` is the seed's one move per round, for demonstrations.
 */
export type SchedulerConfig = Omit<TSchedulerConfigPatch, 'enabled' | 'intervalSec' | 'threshold'> &
  Required<Pick<TSchedulerConfigPatch, 'enabled' | 'intervalSec' | 'threshold'>>;

export interface RunResult {
  mode: SchedulerMode;
  /** True when at least one file moved during the call. */
  executed: boolean;
  /** Moves this round put in the queue (one_per_tick: 1 or 0). */
  queued: number;
  /** Of those, how many had completed when the call returned. */
  done: number;
  /** Of those, how many failed or were cancelled. */
  failed: number;
  /** Of those, how many were still queued or running when the call returned: they go on in the background. */
  pending: number;
  /** How long the call waited for its moves (bounded by `waitMs`). */
  waitedMs: number;
  before: SchedulerPlan;
  /** The real state when the call returned. */
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
  /** The last plan and the inputs it was made from (see dryRun). */
  private cached: { key: string; plan: WholePlan } | null = null;

  constructor(
    private readonly deps: {
      db: Db;
      index: FileIndex;
      operations: OperationsService;
      events: AppEvents;
      clock: Clock;
      nodes: readonly string[];
      offlineNodes?: () => readonly string[];
      /** The migration engine: whole plans are queued on it, and the one-move round runs its move through it. */
      engine: Pick<MigrationEngine, 'enqueue' | 'busyFiles' | 'moveNow' | 'openMigrations' | 'getCaps'>;
      capacityOf?: (node: string) => number | null;
      /** Per-node share for the `weighted` strategy (null: 1). */
      weightOf?: (node: string) => number | null;
    },
    initial: SchedulerConfig,
  ) {
    this.config = { ...initial };
  }

  getConfig(): SchedulerConfig {
    return { ...this.config };
  }

  /** Takes the settings the leader wrote (another instance's change, audited there): no operation recorded here. */
  applyShared(config: SchedulerConfig): void {
    this.config = { ...this.config, ...config };
    if (!this.stopped) this.reschedule();
    this.deps.events.emit('changed', { kind: 'config' });
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

  /**
   * The diagnostics: the current whole plan, explained per node. Derived from the very plan a round would
   * queue, so "moving X" here and what `run` does cannot disagree.
   */
  diagnostics(): SchedulerPlan {
    return this.explain(this.dryRun());
  }

  private explain(plan: WholePlan): SchedulerPlan {
    const { db, nodes, clock, index, engine } = this.deps;
    const running: Record<string, { in: number; out: number }> = {};
    for (const m of engine.openMigrations()) {
      if (m.status !== 'running') continue;
      (running[m.source] ??= { in: 0, out: 0 }).out += 1;
      (running[m.target] ??= { in: 0, out: 0 }).in += 1;
    }
    const caps = engine.getCaps();
    return explainPlan(plan, {
      nodeStates: getNodeStates(db, nodes),
      fileByUuid: (uuid) => index.get(uuid),
      busy: { running, maxPerNodeIn: caps.maxPerNodeIn, maxPerNodeOut: caps.maxPerNodeOut },
      now: clock.now(),
    });
  }

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

  /**
   * The whole imbalance as a list of moves (a dry run: nothing moves), with per-node figures before and after.
   * Files already queued for migration are counted on their target and not picked again.
   */
  dryRun(strategy: StrategyName = this.config.strategy ?? 'count'): WholePlan {
    const { db, nodes, engine, index } = this.deps;
    const states = new Map(getNodeStates(db, nodes).map((s) => [s.node, s]));
    const offline = new Set(this.deps.offlineNodes?.() ?? []);
    const planNodes = nodes.map((n) => ({
      node: n,
      drained: states.get(n)?.drained ?? false,
      offline: offline.has(n),
      capacityBytes: this.deps.capacityOf?.(n) ?? null,
      weight: this.deps.weightOf?.(n) ?? 1,
    }));
    const open = engine.openMigrations();
    // Every input of the plan, in a few hundred bytes: the same key is the same plan, so the diagnostics (asked for
    // by every page, scrape and subscriber) cost a lookup until something changes, whatever the number of files.
    let idSum = 0;
    let idSquares = 0;
    for (const m of open) {
      idSum += m.id;
      idSquares += m.id * m.id;
    }
    const key = JSON.stringify([
      strategy,
      this.config.threshold,
      this.config.highWatermark,
      planNodes,
      index.version,
      open.length,
      idSum,
      idSquares,
    ]);
    if (this.cached?.key === key) return this.cached.plan;
    const plan = planMoves({
      strategy,
      nodes: planNodes,
      files: this.withMovesInFlight(index.list()),
      threshold: this.config.threshold,
      highWatermark: this.config.highWatermark ?? DEFAULT_HIGH_WATERMARK,
      excludeFiles: engine.busyFiles(),
    });
    this.cached = { key, plan };
    return plan;
  }

  /**
   * One round: in `whole_plan` mode (the default) queue the whole plan on the migration engine and wait up to
   * `waitMs` for it to finish; in `one_per_tick` mode (the seed's, kept for demonstrations) move the plan's first
   * move only, through the engine's journal like any other. Either way `after` is the state when the call
   * returns. Rounds never overlap; the automatic loop does not wait (its next round counts the moves in flight).
   */
  run(trigger: 'auto' | 'manual' = 'manual', opts: { waitMs?: number } = {}): Promise<RunResult> {
    const waitMs = opts.waitMs ?? (trigger === 'auto' ? 0 : RUN_WAIT_MS.default);
    return this.mutex.run(() => this.runLocked(waitMs));
  }

  private async runLocked(waitMs: number): Promise<RunResult> {
    const mode = this.config.mode ?? 'whole_plan';
    const plan = this.dryRun();
    const before = this.explain(plan);
    this.deps.events.emit('plan', before);
    const started = performance.now();
    const moves = mode === 'whole_plan' ? plan.moves : plan.moves.slice(0, 1);
    if (moves.length === 0) {
      return { mode, executed: false, queued: 0, done: 0, failed: 0, pending: 0, waitedMs: 0, before, after: before, error: null };
    }
    let error: string | null = null;
    let ids: number[] = [];
    let planId: string | null = null;
    if (mode === 'whole_plan') {
      const queued = this.deps.engine.enqueue(moves, { priority: 5, origin: 'auto' });
      ids = queued.map((r) => r.id);
      planId = queued[0]?.planId ?? null;
      await this.waitFor(ids, waitMs);
    } else {
      try {
        const task = await this.deps.engine.moveNow(moves[0]!, { origin: 'auto' });
        planId = task.planId;
        ids = [task.id];
        if (task.status !== 'completed') error = task.error ?? `the move ended ${task.status}`;
      } catch (err) {
        error = err instanceof Error ? err.message : String(err);
      }
    }
    const tally = this.tally(planId, ids.length);
    const after = this.diagnostics();
    this.deps.events.emit('plan', after);
    if (error === null && tally.failed > 0) error = `${tally.failed} of ${ids.length} moves failed or were cancelled: see migrations.list`;
    return {
      mode,
      executed: tally.done > 0,
      queued: ids.length,
      ...tally,
      waitedMs: Math.round(performance.now() - started),
      before,
      after,
      error,
    };
  }

  /** Resolves once none of `ids` is open any more, or after `waitMs`. */
  private async waitFor(ids: readonly number[], waitMs: number): Promise<void> {
    if (ids.length === 0 || waitMs <= 0) return;
    const deadline = performance.now() + waitMs;
    const open = () => {
      const openIds = new Set(this.deps.engine.openMigrations().map((m) => m.id));
      return ids.some((id) => openIds.has(id));
    };
    while (open() && performance.now() < deadline) await sleep(Math.min(50, Math.max(1, deadline - performance.now())));
  }

  private tally(planId: string | null, queued: number): { done: number; failed: number; pending: number } {
    if (planId === null) return { done: 0, failed: 0, pending: 0 };
    const by = countPlanStatuses(this.deps.db, planId);
    const done = by.completed ?? 0;
    const failed = (by.failed ?? 0) + (by.cancelled ?? 0);
    return { done, failed, pending: Math.max(0, queued - done - failed) };
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
