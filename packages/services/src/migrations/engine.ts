import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

import {
  admit,
  AppError,
  isAppError,
  orderTasks,
  type LoadSample,
  type LoadThresholds,
  type Caps,
  type MigrationTaskView,
  type OrderingPolicy,
  type PlannedMove,
  type WaitingTask,
} from '@zkha/core';
import {
  commitMigrations,
  countMigrationsByStatus,
  getFile,
  getMigration,
  getMigrationSources,
  insertMigrations,
  listMigrations,
  listOpenMigrations,
  listUnsettledMigrations,
  markMigrationsCopied,
  pathsOfFiles,
  startMigrations,
  updateMigrations,
  type Db,
  type MigrationPatch,
  type MigrationRecord,
} from '@zkha/db';
import { locationOf, type FileStoragePort, type TPullFileResult } from '@zkha/storage';

import type { RoomReservation } from '../capacity/node-capacities.ts';
import type { Clock } from '../shared/clock.ts';
import type { AppEvents } from '../shared/event-bus.ts';
import type { FileIndex } from '../files/file-index.ts';
import type { FileMetadataRegistry } from '../files/file-metadata.ts';
import type { BatchPoint, MigrationOrigin, MigrationProgress, MigrationStatusReport, NodeBandwidth, RecoveryReport } from './reports.ts';
import { errMessage } from './location.ts';
import { MigrationNotices } from './notices.ts';
import { OpenTasks } from './open-tasks.ts';
import { recoverRows } from './recovery.ts';
import { RetryQueue } from './retry-queue.ts';
import { MoveSettlement } from './settlement.ts';
import { moveKey, type SharedMigrationJournal, type SharedMove } from './shared-journal.ts';
import { MigrationThrottle } from './throttle.ts';
import { BANDWIDTH_WINDOW_MS, TransferMeter } from './transfer-meter.ts';
import type { OperationsService } from '../logs/operations.ts';

/**
 * Moves per batch. A batch is one pull (one request to the target agent, which fetches the files from the source in
 * framed groups), shares its journal writes (one statement per phase), its commit transaction, its ZooKeeper multi
 * and its delete on the source, and holds one slot of the concurrency caps. Per-move round trips, not bytes, are
 * the cost of small files; a batch pays them once.
 */
const BATCH_FILES = 1024;
/** A batch stops growing at this many bytes, so a cancel or a crash costs at most one such batch of work. */
const BATCH_BYTES = 64 * 1024 * 1024;

/** How often a running batch's progress is read from its target agent. */
const PROGRESS_POLL_MS = 500;

interface Running {
  row: MigrationRecord;
  abort: AbortController;
  bytesDone: number;
  startedAt: number;
}

/** A unit of admission: a batch of moves between one pair of nodes. */
interface Slot {
  view: MigrationTaskView;
  ids: number[];
}

/**
 * Executes planned moves under impact control: overall and per-node concurrency caps, a per-node bandwidth cap
 * on the bytes the agents send and receive, priorities and ordering policies, pause, resume and cancel. Every move
 * is journaled (planned → copying → copied → committed → cleaned) before any agent is asked to do that phase, so
 * `recover()` can finish or undo whatever a crash interrupted: each file ends up complete on exactly one node, and
 * the agents, the database and ZooKeeper agree.
 *
 * Bytes move agent to agent and never through the control plane: the target agent pulls them from the source
 * (`FileStoragePort.pull`). The target pulls, rather than the source pushing, because the target is the side that
 * must verify each file before it becomes visible, hold room for it against its capacity, and pace what it
 * receives under the cap; the source only serves reads, which its data API does for anyone with the token, and a
 * pull asked again (after a lost answer, or by recovery) is idempotent on the target. Moves run in batches between
 * one pair of nodes (one slot of the caps each): one pull, one journal statement per phase, one commit, one
 * ZooKeeper multi, one delete on the source. When both agents see one filesystem and no cap is set, the target
 * hard-links the files instead of copying them (the agents decide, after a probe; the bench reports both paths).
 */
export class MigrationEngine {
  private policy: OrderingPolicy;
  /** The caps and adaptive mode. */
  private readonly throttle: MigrationThrottle;
  /** Settling committed moves and cleaning up after ended ones, over the storage port. */
  private readonly settlement: MoveSettlement;
  /** 'changed' and 'migrations' on the bus, debounced. */
  private readonly notices: MigrationNotices;
  /** The bytes moved lately: rate and per-node bandwidth. */
  private readonly meter: TransferMeter;
  private readonly running = new Map<number, Running>();
  private readonly slots = new Map<number, Slot>();
  private globalPause = false;
  /** Internal holds (see hold()); the queue moves only when there are none and no operator pause. */
  private holds = 0;
  private pumpTimer: NodeJS.Timeout | null = null;
  private stopped = true;
  private stopping = false;
  /**
   * Whether agents that share a filesystem may hard-link instead of copying (with no bandwidth cap). On by default;
   * off, every move streams over HTTP as between hosts (the bench measures both paths this way).
   */
  private readonly sameHostLinks: boolean;
  /**
   * Moves a batch left unsure (something failed unexpectedly mid-batch): they stay in the journal as they are, which
   * keeps their files out of new plans, and recovery resolves them once the agents answer, retried every second.
   */
  private readonly unsure = new RetryQueue(
    async (rows) => {
      const { left } = await this.recoverRows(rows.map((r) => getMigration(this.deps.db, r.id) ?? r));
      this.tasks.reset();
      this.ordered = null;
      this.kick();
      return left;
    },
    1000,
    () => this.notices.progress(),
  );
  /** Open tasks in memory, in step with the journal (see OpenTasks). */
  private readonly tasks: OpenTasks;
  /** Pending task ids in policy order; rebuilt when tasks are added, resumed, or the policy changes. */
  private ordered: number[] | null = null;
  /** Committed moves whose ZooKeeper update or source removal failed: retried until they are cleaned. */
  private readonly unsettled = new RetryQueue(
    async (rows) => {
      await this.settlement.settle(
        rows.map((row) => ({ row, file: getFile(this.deps.db, row.uuid) })),
        { verify: true },
      );
      this.notices.filesChanged();
      return [];
    },
    1000,
    () => this.notices.progress(),
  );
  /** Ended moves whose target owes the delete of a copy they may have left (it did not answer): retried until done. */
  private readonly owedCleanups = new RetryQueue(
    (rows) => this.settlement.cleanupCopies(rows),
    2000,
    () => this.notices.progress(),
  );

  constructor(
    private readonly deps: {
      db: Db;
      storage: FileStoragePort;
      metadata: FileMetadataRegistry;
      index: FileIndex;
      operations: OperationsService;
      events: AppEvents;
      clock: Clock;
      offlineNodes: () => readonly string[];
      /**
       * Whether this instance may still act (under leader election: it leads, within its lease). Asked right before
       * the commit point: a batch whose instance lost the lead meanwhile takes its copies back instead of committing.
       */
      mayAct?: () => boolean;
      /** Under leader election: the journal every instance can read (queued moves, batches in flight). */
      shared?: SharedMigrationJournal | null;
      /** The storage nodes (a live list), for the per-node figures of move operations and bandwidth. */
      nodes?: readonly string[];
      /**
       * Holds room on a move's target for its bytes until the move ends; throws NODE_FULL when they would pass
       * the target's capacity (NodeCapacities.reserve). Checked when the move starts, not when it was planned.
       */
      reserveRoom?: (node: string, bytes: number) => RoomReservation;
      /**
       * Why ZooKeeper cannot take writes now (no quorum), or null. A move commits to ZooKeeper, so while this
       * says something nothing starts: queued moves wait, with this as their reason, instead of failing.
       */
      writeBlocked?: () => string | null;
      onMigration?: (result: 'success' | 'failed') => void;
      /** Load signals for adaptive mode. */
      sampleLoad?: () => LoadSample;
      /** Bytes per second a node's agent sends and receives on the wire, as it reports them; null when unknown. */
      agentTraffic?: (node: string) => { inBytesPerSec: number; outBytesPerSec: number } | null;
      loadThresholds?: LoadThresholds;
      /** Crash-safety tests only: called at each point of a batch; a promise that never settles freezes the batch there. */
      atBatchPoint?: (point: BatchPoint, ids: readonly number[]) => Promise<void> | void;
    },
    opts: { caps?: Partial<Caps>; policy?: OrderingPolicy; sameHostLinks?: boolean } = {},
  ) {
    this.sameHostLinks = opts.sameHostLinks ?? true;
    this.tasks = new OpenTasks(deps.db, () => {
      this.ordered = null;
    });
    this.throttle = new MigrationThrottle(
      {
        operations: deps.operations,
        changed: () => {
          this.kick();
          this.deps.events.emit('changed', { kind: 'config' });
        },
        sampleLoad: deps.sampleLoad,
        loadThresholds: deps.loadThresholds,
      },
      opts.caps,
    );
    this.settlement = new MoveSettlement({
      db: deps.db,
      clock: deps.clock,
      storage: deps.storage,
      metadata: deps.metadata,
      tasks: this.tasks,
      pullOptions: () => ({
        bytesPerSec: this.throttle.caps.bandwidthBytesPerSec,
        link: this.throttle.caps.bandwidthBytesPerSec === null && this.sameHostLinks,
      }),
      settled: (id) => this.unsettled.delete(id),
    });
    this.notices = new MigrationNotices(deps.events, { stopped: () => this.stopped, progress: () => this.progress() });
    this.meter = new TransferMeter({ nodes: () => deps.nodes ?? [], agentTraffic: deps.agentTraffic });
    this.policy = opts.policy ?? 'priority';
  }

  getCaps(): Caps {
    return this.throttle.get();
  }

  setCaps(patch: Partial<Caps>, cause = 'operator'): Caps {
    return this.throttle.set(patch, cause);
  }

  /** What the other instances must agree on: caps, ordering policy and an operator's global pause. */
  sharedSettings(): { caps: Caps; policy: OrderingPolicy; paused: boolean } {
    return { caps: this.getCaps(), policy: this.policy, paused: this.globalPause };
  }

  /** Takes the settings the leader wrote (another instance's change, audited there): nothing recorded here. */
  applyShared(s: { caps: Caps; policy: OrderingPolicy; paused: boolean }): void {
    this.throttle.applyShared(s.caps);
    this.policy = s.policy;
    this.ordered = null;
    this.globalPause = s.paused;
    this.kick();
  }

  /**
   * Adaptive mode (off by default): every few seconds the load (CPU, event-loop lag, ZooKeeper latency) is
   * sampled and the caps are cut when any signal is high, raised when all are calm (see MigrationThrottle).
   */
  setAdaptive(enabled: boolean, opts: { intervalMs?: number } = {}): { enabled: boolean } {
    return this.throttle.setAdaptive(enabled, opts);
  }

  get adaptiveEnabled(): boolean {
    return this.throttle.adaptiveEnabled;
  }

  /** One control step of adaptive mode (the interval calls it; tests call it directly). */
  adaptiveStep(): void {
    this.throttle.adaptiveStep();
  }

  getPolicy(): OrderingPolicy {
    return this.policy;
  }

  setPolicy(policy: OrderingPolicy): OrderingPolicy {
    this.policy = policy;
    this.ordered = null;
    this.kick();
    this.deps.events.emit('changed', { kind: 'config' });
    return policy;
  }

  /** Tasks not yet finished (pending, paused, running), as the journal holds them. */
  openMigrations(): MigrationRecord[] {
    return [...this.tasks.open().values()];
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
    this.kick();
    return inserted;
  }

  /** Journals moves as pending tasks (one transaction), skipping files already queued or no longer at the plan's source. */
  private insertTasks(
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
    this.ordered = null;
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
      this.deps.events.emit('migrations', this.progress());
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
    if (out.length > 0) this.kick();
    return out;
  }

  /**
   * Moves one file now, through the journal like any queued move, without waiting for a slot (the one-move-per-
   * round scheduler). The bandwidth cap and a global pause still apply. Resolves with the finished task.
   */
  async moveNow(move: PlannedMove, opts: { priority?: number; origin?: MigrationOrigin } = {}): Promise<MigrationRecord> {
    if (this.globalPause) throw new AppError('CONFLICT', 'migrations are paused by an operator: resume them to move files');
    if (this.holds > 0) throw new AppError('CONFLICT', 'migrations are held while the consistency check runs: try again in a moment');
    if (this.stopping) throw new AppError('CONFLICT', 'the migration engine is stopping');
    const blocked = this.deps.writeBlocked?.() ?? null;
    if (blocked !== null) throw new AppError('NO_QUORUM', blocked);
    if (this.busyFiles().has(move.uuid)) throw new AppError('CONFLICT', `${move.name} is already being migrated`);
    const [row] = this.insertTasks([move], randomUUID(), {
      priority: opts.priority ?? 10,
      ...(opts.origin ? { origin: opts.origin } : {}),
    });
    if (!row) throw new AppError('CONFLICT', `${move.name} is no longer on ${move.from}`);
    await this.startSlot({ view: this.view(row), ids: [row.id] });
    return getMigration(this.deps.db, row.id)!;
  }

  /**
   * Queues one move an operator asked for (a chosen file to a chosen node, or the seed's `add_migration_task`),
   * under the caps like every move, and records it (`migration_task_add`). The caller has checked the move
   * (checkManualMove); this refuses only what changed since: the file queued meanwhile, or no longer at `from`.
   */
  addTask(move: PlannedMove, opts: { priority: number; deadline?: string | null; origin?: MigrationOrigin; via: string }): MigrationRecord {
    const busy = this.openMigrations().find((m) => m.uuid === move.uuid);
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
    this.kick();
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
    if (this.running.has(id) || (open.status !== 'pending' && open.status !== 'paused')) {
      throw new AppError('CONFLICT', `migration ${id} is running: only a pending or paused task can change`, { id, status: 'running' });
    }
    const change: MigrationPatch = {
      ...(patch.priority !== undefined ? { priority: patch.priority } : {}),
      ...(patch.deadline !== undefined ? { deadline: patch.deadline === null ? null : new Date(patch.deadline).toISOString() } : {}),
    };
    const row = this.tasks.update(id, change);
    // The cached policy order no longer holds (mirror() only drops it for pending rows).
    this.ordered = null;
    this.deps.operations.record({
      action: 'migration_task_update',
      node: row.source,
      status: 'success',
      details: { id, uuid: row.uuid, name: row.name, status: row.status, patch: change },
      beforeMetrics: { priority: open.priority, deadline: open.deadline },
      afterMetrics: { priority: row.priority, deadline: row.deadline },
    });
    this.kick();
    this.notices.progress();
    return row;
  }

  /**
   * Holds every move from starting (running ones finish) until the returned release is called; for the
   * consistency check, which must not see files mid-move. Separate from the operator's pause, which a hold
   * neither reads nor changes; holds nest.
   */
  hold(): () => void {
    this.holds++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.holds--;
      this.kick();
    };
  }

  pause(id?: number): void {
    if (id === undefined) this.globalPause = true;
    else this.setStatus(id, ['pending'], 'paused');
    this.notices.progress();
    if (id === undefined) this.deps.events.emit('changed', { kind: 'config' });
  }

  resume(id?: number): void {
    if (id === undefined) this.globalPause = false;
    else this.setStatus(id, ['paused'], 'pending');
    this.kick();
    if (id === undefined) this.deps.events.emit('changed', { kind: 'config' });
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
      if (m.phase === 'committed' || this.unsure.has(m.id)) continue;
      const r = this.running.get(m.id);
      if (r) r.abort.abort();
      else idle.push(m);
      n++;
    }
    this.tasks.updateMany(idle, { status: 'cancelled', finishedAt: this.deps.clock.now().toISOString() });
    this.deps.operations.record({ action: 'migration_cancel', status: 'success', details: { id: id ?? 'all', cancelled: n } });
    this.notices.progress();
    return n;
  }

  private setStatus(id: number, from: MigrationRecord['status'][], to: MigrationRecord['status']): void {
    const m = getMigration(this.deps.db, id);
    if (!m) throw new AppError('TASK_NOT_FOUND', `no migration ${id}`);
    if (!from.includes(m.status)) throw new AppError('CONFLICT', `migration ${id} is ${m.status}, not ${from.join(' or ')}`);
    this.tasks.update(id, { status: to });
    this.ordered = null;
  }

  list(opts: { status?: MigrationRecord['status']; planId?: string; limit?: number } = {}): MigrationRecord[] {
    return listMigrations(this.deps.db, opts);
  }

  start(): void {
    this.stopped = false;
    this.stopping = false;
    this.kick();
    this.unsettled.start(0);
    this.unsure.start();
    this.owedCleanups.start();
  }

  /** Stops starting new copies and aborts running ones (their files stay whole on their sources). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.stopping = true;
    this.throttle.stopTimer();
    if (this.pumpTimer) clearTimeout(this.pumpTimer);
    this.pumpTimer = null;
    for (const q of [this.unsettled, this.unsure, this.owedCleanups]) q.stop();
    this.notices.holdProgress();
    for (const r of this.running.values()) r.abort.abort(new Error('server stopping'));
    while (this.running.size > 0) await sleep(10);
    this.notices.flush();
  }

  /** Looks at the queue again now (after something outside it changed: the quorum came back, a node joined). */
  wake(): void {
    this.kick();
  }

  private kick(): void {
    if (this.stopped || this.pumpTimer) return;
    this.pumpTimer = setTimeout(() => {
      this.pumpTimer = null;
      this.pump();
    }, 0);
  }

  private view(m: MigrationRecord): MigrationTaskView {
    return {
      id: m.id,
      uuid: m.uuid,
      source: m.source,
      target: m.target,
      bytes: m.bytes,
      priority: m.priority,
      deadline: m.deadline ? Date.parse(m.deadline) : null,
      createdAt: Date.parse(m.createdAt),
      status: m.status,
      bytesDone: this.running.get(m.id)?.bytesDone ?? m.bytesDone,
    };
  }

  /** Starts whatever the caps admit now, and remembers why the rest waits. */
  private lastWaiting: WaitingTask[] = [];
  private pump(): void {
    if (this.stopped) return;
    const open = this.tasks.open();
    const runningViews = [...this.slots.values()].map((s) => ({ ...s.view, status: 'running' as const }));
    if (this.globalPause || this.holds > 0) {
      const message = this.globalPause ? 'all migrations are paused by an operator' : 'held while the consistency check runs';
      this.lastWaiting = [...open.values()]
        .filter((m) => !this.running.has(m.id))
        .slice(0, 100)
        .map((t) => ({ id: t.id, reason: 'paused', message }));
      this.notices.progress();
      return;
    }
    const blocked = this.deps.writeBlocked?.() ?? null;
    if (blocked !== null) {
      this.lastWaiting = [...open.values()]
        .filter((m) => !this.running.has(m.id))
        .slice(0, 100)
        .map((t) => ({ id: t.id, reason: 'no_quorum', message: blocked }));
      this.notices.progress();
      return;
    }
    const now = this.deps.clock.now().getTime();
    if (this.ordered === null) {
      const pendingViews = [...open.values()]
        .filter((m) => !this.running.has(m.id) && (m.status === 'pending' || m.status === 'paused'))
        .map((m) => this.view(m));
      this.ordered = orderTasks(pendingViews, this.policy, now).map((t) => Number(t.id));
    }
    // Admission looks at a window at the head of the order: enough to fill every slot with a full batch past busy
    // nodes, without re-sorting thousands of queued moves each time one finishes.
    const limit = Math.max(256, this.throttle.caps.maxConcurrent * BATCH_FILES);
    // Pending moves between the same two nodes are grouped into batches; admission then weighs each batch as one
    // migration (its first move's priority and deadline, its total bytes). A paused task waits alone.
    const units: Slot[] = [];
    const batches = new Map<string, Slot>();
    // Under a bandwidth cap a batch holds about two seconds of bytes at the cap: a cancel, a pause or a crash then
    // costs seconds of work, not minutes (and a single file larger than that is a batch of its own).
    const cap = this.throttle.caps.bandwidthBytesPerSec;
    const batchBytes = cap === null ? BATCH_BYTES : Math.min(BATCH_BYTES, cap * 2);
    let taken = 0;
    let skipped = 0;
    for (const id of this.ordered) {
      const m = open.get(id);
      if (!m || this.running.has(id) || (m.status !== 'pending' && m.status !== 'paused')) {
        skipped++;
        continue;
      }
      const pair = `${m.source}\u0000${m.target}`;
      if (m.status === 'pending') {
        let b = batches.get(pair);
        if (!b || b.ids.length >= BATCH_FILES || b.view.bytes + m.bytes > batchBytes) {
          b = { view: this.view(m), ids: [] };
          batches.set(pair, b);
          units.push(b);
        } else {
          b.view.bytes += m.bytes;
        }
        b.ids.push(id);
      } else {
        units.push({ view: this.view(m), ids: [id] });
      }
      if (++taken >= limit) break;
    }
    if (skipped > 1024) this.ordered = this.ordered.filter((id) => open.get(id)?.status === 'pending' && !this.running.has(id));
    const byId = new Map(units.map((u) => [Number(u.view.id), u]));
    const admission = admit(
      units.map((u) => u.view),
      runningViews,
      this.throttle.caps,
      this.policy,
      now,
      { offlineNodes: this.deps.offlineNodes() },
    );
    this.lastWaiting = admission.waiting
      .flatMap((w) => (byId.get(Number(w.id))?.ids ?? [Number(w.id)]).map((id) => ({ ...w, id })))
      .slice(0, 256);
    for (const t of admission.start) {
      const unit = byId.get(Number(t.id))!;
      void this.startSlot(unit);
    }
    this.notices.progress();
  }

  /**
   * Holds room on the target for each move of a unit. A move that would pass its target's capacity fails now
   * with the NODE_FULL reason, before anything is copied: the planner's high watermark normally keeps such a
   * move out of a plan, but usage may have grown since it was planned. Returns the moves that fit.
   */
  private reserveTargets(ids: readonly number[], rooms: RoomReservation[]): number[] {
    if (!this.deps.reserveRoom) return [...ids];
    // A batch goes to one target: room for all of it in one reservation (one capacity check, not one per file,
    // which the bench measured as a third of the control plane's time per move). Only when the whole batch does
    // not fit are its moves taken one by one, so those that fit still go.
    const rows = ids.map((id) => this.tasks.open().get(id)!);
    const target = rows[0]!.target;
    if (rows.every((r) => r.target === target)) {
      try {
        rooms.push(
          this.deps.reserveRoom(
            target,
            rows.reduce((a, r) => a + r.bytes, 0),
          ),
        );
        return [...ids];
      } catch (err) {
        if (!(isAppError(err) && err.code === 'NODE_FULL')) throw err;
      }
    }
    const fit: number[] = [];
    for (const id of ids) {
      const row = this.tasks.open().get(id)!;
      try {
        rooms.push(this.deps.reserveRoom(row.target, row.bytes));
        fit.push(id);
      } catch (err) {
        if (!(isAppError(err) && err.code === 'NODE_FULL')) {
          for (const room of rooms.splice(0)) room.release();
          throw err;
        }
        this.fail(row, `${row.name} not moved to ${row.target}: ${err.message}`);
      }
    }
    return fit;
  }

  /** Runs one admitted unit in a slot of the caps; resolves when it is done (it never rejects). */
  private startSlot(admitted: Slot): Promise<void> {
    const open = this.tasks.open();
    const rooms: RoomReservation[] = [];
    const ids = this.reserveTargets(admitted.ids, rooms);
    if (ids.length === 0) {
      this.kick();
      this.notices.progress();
      return Promise.resolve();
    }
    const unit: Slot =
      ids.length === admitted.ids.length
        ? admitted
        : { ...admitted, ids, view: { ...admitted.view, id: ids[0]!, bytes: ids.reduce((a, id) => a + open.get(id)!.bytes, 0) } };
    const rs = unit.ids.map((id) => {
      const r: Running = { row: open.get(id)!, abort: new AbortController(), bytesDone: 0, startedAt: performance.now() };
      this.running.set(id, r);
      return r;
    });
    const key = unit.ids[0]!;
    this.slots.set(key, { ...unit, view: { ...unit.view, status: 'running' } });
    return this.execute(rs)
      .catch((err: unknown) =>
        this.resolveLater(
          rs.map((r) => this.tasks.open().get(r.row.id) ?? r.row),
          errMessage(err),
        ),
      )
      .finally(() => {
        for (const room of rooms) room.release();
        for (const r of rs) this.running.delete(r.row.id);
        this.slots.delete(key);
        this.kick();
      });
  }

  /**
   * One batch between a pair of nodes. Each phase is journaled for the whole batch in one statement before the
   * agents are asked to do it: `copying`, then the target pulls the files from the source (each verified before it
   * is visible there), `copied`, one transaction moves the file rows (`committed`), one round of ZooKeeper multis,
   * one delete on the source (of exactly the content that was verified), and `cleaned`. Recovery handles a crash
   * between any two steps; a cancelled move is undone only while it is before the commit point.
   */
  /**
   * Runs a batch. Under leader election its moves are first named in the shared journal (one znode, fenced), so
   * an instance taking over after this one dies knows what was in flight; the znode goes once the batch is settled.
   */
  private async execute(rs: Running[]): Promise<void> {
    const shared = this.deps.shared;
    if (!shared) {
      await this.executeBatch(rs);
      return;
    }
    const { source, target } = rs[0]!.row;
    let journaled: string;
    try {
      journaled = await shared.batchStarted(
        source,
        target,
        rs.map((r) => r.row),
      );
    } catch {
      // Not named, not started (no quorum, or no longer the leader): the moves stay queued; look again shortly.
      await sleep(1000);
      return;
    }
    if (await this.executeBatch(rs)) await shared.batchEnded(journaled).catch(() => undefined);
  }

  /** One batch through its phases; false when it ends unsettled (left for the retry queue, or requeued unconfirmed). */
  private async executeBatch(rs: Running[]): Promise<boolean> {
    const { db, clock } = this.deps;
    const t0 = performance.now();
    const point = async (p: BatchPoint, rows: readonly Running[]) => {
      if (this.deps.atBatchPoint && rows.length > 0)
        await this.deps.atBatchPoint(
          p,
          rows.map((r) => r.row.id),
        );
    };
    const startedAt = clock.now().toISOString();
    let batch = this.tasks.updateMany(
      rs.map((r) => r.row),
      { status: 'running', phase: 'copying', startedAt, error: null },
      (ids) => startMigrations(db, ids, startedAt),
    );
    rs.forEach((r, i) => (r.row = batch[i]!));
    await point('copying', rs);
    const { source, target } = rs[0]!.row;

    // A name on the target that another file's row claims is that file's, even with the same bytes: never adopted.
    const claimed = pathsOfFiles(
      db,
      rs.map((r) => r.row.targetPath),
    );
    for (const r of rs)
      if (claimed.has(r.row.targetPath))
        this.fail(r.row, `${r.row.name} not moved: another file named ${r.row.name} already exists on ${target}`);
    const pulling = rs.filter((r) => !claimed.has(r.row.targetPath) && !r.abort.signal.aborted);
    // Cancelled (or stopped) before the pull began: nothing to take back.
    this.endMoves(
      rs.filter((r) => !claimed.has(r.row.targetPath) && r.abort.signal.aborted).map((r) => r.row),
      null,
      'planned',
    );

    const pull = await this.pullBatch(pulling, source, target);
    if (!pull) return true;
    const { results, transfer, polled } = pull;
    const pulled: Running[] = [];
    results.forEach((res, i) => {
      const r = pulling[i]!;
      if (!res.ok) this.fail(r.row, `${r.row.name} not moved to ${target}: ${res.message} (${res.code})`);
      else pulled.push(r);
    });
    await point('pulled', pulled);
    // Cancelled (or stopped) before the commit point: the copy is taken back, the file stays on its source.
    const cancelled = pulled.filter((r) => r.abort.signal.aborted);
    if (cancelled.length > 0) await this.undo(cancelled, null);
    const copied = pulled.filter((r) => !r.abort.signal.aborted);

    batch = this.tasks.updateMany(
      copied.map((r) => r.row),
      { phase: 'copied' },
      (ids) => markMigrationsCopied(db, ids),
    );
    for (const [i, r] of copied.entries()) {
      r.row = { ...batch[i]!, bytesDone: r.row.bytes };
      r.bytesDone = r.row.bytes;
    }
    const copiedBytes = copied.reduce((a, r) => a + r.row.bytes, 0);
    if (copiedBytes > polled()) this.meter.note(source, target, copiedBytes - polled());
    await point('copied', copied);

    return this.commitBatch(copied, transfer, t0, point);
  }

  /**
   * The batch's commit point and after: the copied moves are committed in one transaction (unless this instance no
   * longer leads), the index and the audit follow, then the znodes are written and the sources deleted (settle).
   * True when the batch ended; false when its moves wait (back in the queue, or owed settling).
   */
  private async commitBatch(
    copied: readonly Running[],
    transfer: { bytesOnWire: number; linkedFiles: number },
    t0: number,
    point: (p: BatchPoint, rows: readonly Running[]) => Promise<void>,
  ): Promise<boolean> {
    const { db, clock, index } = this.deps;
    if (this.deps.mayAct?.() === false) {
      // The lead is not confirmed (the ensemble is out of reach, or another instance leads now): nothing is
      // committed and nothing deleted. Back to the queue; the copies stay where they are, for this instance to use
      // once the lead is confirmed again, or for the new leader's recovery (the shared journal names them).
      this.tasks.updateMany(
        copied.map((r) => r.row),
        { status: 'pending', phase: 'copying', bytesDone: 0, error: null },
      );
      this.notices.progress();
      return false;
    }
    const at = clock.now().toISOString();
    let result: ReturnType<typeof commitMigrations>;
    try {
      result = commitMigrations(
        db,
        copied.map((r) => ({
          id: r.row.id,
          uuid: r.row.uuid,
          sourcePath: r.row.sourcePath,
          target: r.row.target,
          targetPath: r.row.targetPath,
          historyEntry: { action: 'migrate', from: r.row.source, to: r.row.target, at },
        })),
        at,
      );
    } catch (err) {
      // The database refused the commit: nothing moved, take the copies back.
      await this.undo(copied, errMessage(err));
      this.notices.progress();
      return true;
    }
    // A file deleted (or moved by someone else) during the pull: the copy is ours and the only thing to undo.
    const gone = copied.filter((r) => !result.committed.has(r.row.id));
    if (gone.length > 0) await this.undo(gone, 'the file was deleted or moved during the migration');
    const committed = copied.filter((r) => result.committed.has(r.row.id));
    this.tasks.updateMany(
      committed.map((r) => r.row),
      { phase: 'committed' },
      () => undefined,
    );
    const countsBefore = index.counts(this.countNodes(committed.map((r) => r.row)));
    for (const r of committed) index.move(r.row.uuid, r.row.target, 'migrate');
    this.recordMoves(
      committed.map((r) => r.row),
      countsBefore,
      transfer,
    );
    if (committed.length > 0) this.notices.filesChanged();
    await point('committed', committed);

    try {
      await this.settlement.settle(
        committed.map((r) => ({ row: r.row, file: result.committed.get(r.row.id)! })),
        { seconds: () => (performance.now() - t0) / 1000, verify: false, point: (p) => point(p, committed) },
      );
      for (let i = 0; i < committed.length; i++) this.deps.onMigration?.('success');
      return true;
    } catch (err) {
      // Past the commit point the moves only have to be finished: retried until ZooKeeper and the agents agree.
      this.toSettle(
        this.tasks.updateMany(
          committed.map((r) => r.row),
          { error: errMessage(err) },
        ),
      );
      return false;
    } finally {
      this.notices.progress();
    }
  }

  /**
   * The batch's pull: the target fetches the files from the source (or links them), under the bandwidth cap, while
   * its progress is read from the target. Null when the pull failed or was cancelled whole: its moves are undone.
   */
  private async pullBatch(
    pulling: readonly Running[],
    source: string,
    target: string,
  ): Promise<{ results: TPullFileResult[]; transfer: { bytesOnWire: number; linkedFiles: number }; polled: () => number } | null> {
    const { storage } = this.deps;
    // The pull stops when every move in it is cancelled (or the engine stops); a single cancelled move is undone
    // after it, as its copy may already be in place.
    const all = new AbortController();
    const onAbort = () => {
      if (pulling.every((r) => r.abort.signal.aborted)) all.abort();
    };
    for (const r of pulling) r.abort.signal.addEventListener('abort', onAbort, { once: true });
    const cap = this.throttle.caps.bandwidthBytesPerSec;
    let results: TPullFileResult[] = [];
    // How the batch travelled, as the target reports it: bytes over HTTP, and files hard-linked on one host.
    let transfer = { bytesOnWire: 0, linkedFiles: 0 };
    // A long pull answers once, at its end: its progress is read from the target meanwhile (the bytes it received,
    // laid over the batch's files in order), so bars, rates and ETAs move while it runs.
    const pullId = randomUUID();
    let polled = 0;
    const follow = setInterval(() => {
      void storage
        .pullProgress(target, pullId)
        .then((p) => {
          if (!p) return;
          if (p.bytes > polled) this.meter.note(source, target, p.bytes - polled);
          polled = Math.max(polled, p.bytes);
          let left = p.bytes;
          for (const r of pulling) {
            r.bytesDone = Math.max(r.bytesDone, Math.min(r.row.bytes, left));
            left -= r.bytesDone;
          }
          this.notices.progress();
        })
        .catch(() => undefined);
    }, PROGRESS_POLL_MS);
    try {
      if (pulling.length > 0) {
        const pulled = await storage.pull(
          target,
          source,
          pulling.map((r) => ({ name: r.row.name, sha256: r.row.sha256, sizeBytes: r.row.bytes })),
          { bytesPerSec: cap, link: cap === null && this.sameHostLinks, id: pullId, signal: all.signal },
        );
        results = pulled.results;
        transfer = { bytesOnWire: pulled.bytes, linkedFiles: pulled.linked ?? 0 };
      }
    } catch (err) {
      // Whatever the target published before the failure is taken back; nothing was committed.
      await this.undo(pulling, all.signal.aborted ? null : `${target} could not pull from ${source}: ${errMessage(err)}`);
      this.notices.progress();
      return null;
    } finally {
      clearInterval(follow);
      for (const r of pulling) r.abort.signal.removeEventListener('abort', onAbort);
    }
    // The bytes polled so far, read when asked: a poll still in flight may add to them.
    return { results, transfer, polled: () => polled };
  }

  /**
   * Takes back what a batch placed on its target before the commit point: the copies are deleted there (only that
   * content: a file that took the name meanwhile stays), and the moves end failed with `message`, or cancelled
   * (back to pending when the engine is stopping) when `message` is null. The file is whole on its source either
   * way. A target that does not answer keeps its phase (`copying`): the copy it may hold is deleted once it
   * answers again (cleanupCopies, retried, and by recovery at the next start), so the move ends now all the same.
   */
  private async undo(rs: readonly Running[], message: string | null): Promise<void> {
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
    if (owed !== null && !this.stopped) this.owedCleanups.add(ended);
  }

  /**
   * Ends moves before their commit point, the file whole on its source: back to pending when the engine is
   * stopping, else cancelled (`message` null) or failed with `message`. `phase` stays `copying` while a copy on
   * the target may still be owed a delete; `note` says so.
   */
  private endMoves(rows: readonly MigrationRecord[], message: string | null, phase: 'planned' | 'copying', note = ''): MigrationRecord[] {
    if (rows.length === 0) return [];
    if (this.stopped) return this.tasks.updateMany(rows, { status: 'pending', phase, bytesDone: 0, error: null, finishedAt: null });
    if (message === null)
      return this.tasks.updateMany(rows, {
        status: 'cancelled',
        phase,
        bytesDone: 0,
        error: note === '' ? null : note.trim(),
        finishedAt: this.deps.clock.now().toISOString(),
      });
    for (const r of rows) this.fail(r, `${message}${note}`, phase);
    return rows.map((r) => getMigration(this.deps.db, r.id) ?? r);
  }

  /** The nodes whose file counts a move operation shows: the storage nodes, and any node the moves touch. */
  private countNodes(rows: readonly MigrationRecord[]): string[] {
    const nodes = new Set(this.deps.nodes ?? []);
    for (const r of rows) nodes.add(r.source).add(r.target);
    return [...nodes];
  }

  /**
   * Every committed move is an operation, written at its commit point: `auto_migrate` when the automatic
   * scheduler asked for it, `migrate` when an operator did. A batch is one operation listing its moves (two if
   * it mixes both origins); `countsBefore` are the file counts just before the index moved these files.
   */
  private recordMoves(
    rows: readonly MigrationRecord[],
    countsBefore: Record<string, number>,
    transfer?: { bytesOnWire: number; linkedFiles: number },
  ): void {
    let before = countsBefore;
    for (const origin of ['auto', 'manual'] as const) {
      const group = rows.filter((r) => r.origin === origin);
      const first = group[0];
      if (!first) continue;
      const after = { ...before };
      for (const r of group) {
        after[r.source] = (after[r.source] ?? 0) - 1;
        after[r.target] = (after[r.target] ?? 0) + 1;
      }
      this.deps.operations.record({
        action: origin === 'auto' ? 'auto_migrate' : 'migrate',
        node: first.source,
        status: 'success',
        details: {
          trigger: origin,
          count: group.length,
          moves: group.map((r) => ({ uuid: r.uuid, name: r.name, from: r.source, to: r.target, sizeBytes: r.bytes })),
          planId: first.planId,
          reason: first.reason,
          // The batch's (shared by both operations when it mixes origins); absent for moves recovery finished.
          ...(transfer ? { transfer } : {}),
        },
        beforeMetrics: { counts: before },
        afterMetrics: { counts: after },
      });
      before = after;
    }
  }

  /**
   * Bytes per second each node sent and received over the last few seconds, with the per-node cap (see
   * TransferMeter.perNode).
   */
  bandwidthPerNode(): Record<string, NodeBandwidth> {
    return this.meter.perNode(this.throttle.caps.bandwidthBytesPerSec);
  }

  /** The seed's `get_migration_status`: see MigrationStatusReport for what each figure counts. */
  status(): MigrationStatusReport {
    const totals = countMigrationsByStatus(this.deps.db);
    const p = this.progress();
    // Open tasks from memory: their bytes copied so far live there, not in the journal.
    const openBytes = p.tasks.reduce((a, t) => a + t.bytes, 0);
    const openDone = p.tasks.reduce((a, t) => a + t.bytesDone, 0);
    const bytesTotal = totals.completed.bytes + openBytes;
    const bytesDone = totals.completed.bytes + openDone;
    const count = (s: MigrationRecord['status']) => totals[s].count;
    return {
      total: Object.values(totals).reduce((a, t) => a + t.count, 0),
      pending: count('pending'),
      running: count('running'),
      paused: count('paused'),
      completed: count('completed'),
      failed: count('failed'),
      cancelled: count('cancelled'),
      progress: bytesTotal > 0 ? Math.min(1, bytesDone / bytesTotal) : 1,
      bytesTotal,
      bytesDone,
      rateBytesPerSec: p.totals.rateBytesPerSec,
      bandwidthPerNode: this.bandwidthPerNode(),
      windowSec: BANDWIDTH_WINDOW_MS / 1000,
      queuePaused: this.globalPause,
    };
  }

  /** A move that cannot be done: back to `planned` with its error, the file whole on its source. */
  private fail(row: MigrationRecord, message: string, phase: 'planned' | 'copying' = 'planned'): void {
    this.tasks.update(row.id, { status: 'failed', phase, bytesDone: 0, error: message, finishedAt: this.deps.clock.now().toISOString() });
    this.deps.onMigration?.('failed');
    this.deps.operations.record({
      action: 'migration_failed',
      node: row.source,
      status: 'failed',
      details: { id: row.id, uuid: row.uuid, error: message },
    });
  }

  private toSettle(rows: readonly MigrationRecord[]): void {
    this.unsettled.add(rows);
  }

  /** Moves a batch that failed unexpectedly left mid-way: marked with why, and resolved by recovery (see `unsure`). */
  private resolveLater(rows: readonly MigrationRecord[], message: string): void {
    this.unsure.add(
      rows
        .filter((r) => this.tasks.open().get(r.id)?.status === 'running')
        .map((r) => this.tasks.update(r.id, { error: `waiting to be resolved: ${message}` })),
    );
  }

  /**
   * Settles what a crash left mid-way (run before `start`). Before the commit point the source is intact, so
   * copies a target holds are deleted there (only this file's content, and only where no file row claims the
   * name) and the task is queued again. After it, the database already names the target, so ZooKeeper is brought
   * in line and the source copy deleted. Moves whose agents do not answer are resolved later, once they do.
   */
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
    this.tasks.reset();
    this.ordered = null;
    this.unsure.add(left);
    return report;
  }

  /** Resolves journal rows a crash or a failure left mid-way (see recoverRows in recovery.ts). */
  private recoverRows(rows: readonly MigrationRecord[]): Promise<{ report: RecoveryReport; left: MigrationRecord[] }> {
    return recoverRows(
      {
        ...this.deps,
        cleanupCopies: (r) => this.settlement.cleanupCopies(r),
        settle: (items, o) => this.settlement.settle(items, o),
        recordMoves: (r, counts) => this.recordMoves(r, counts),
        countNodes: (r) => this.countNodes(r),
        owedCleanups: this.owedCleanups,
        unsettled: this.unsettled,
      },
      rows,
    );
  }

  progress(): MigrationProgress {
    const open = [...this.tasks.open().values()];
    const rate = this.meter.rateBytesPerSec();
    const tasks = open.map((m) => {
      const done = this.running.get(m.id)?.bytesDone ?? m.bytesDone;
      return { ...m, bytesDone: done, etaMs: rate > 0 ? ((m.bytes - done) / rate) * 1000 : null };
    });
    const bytesLeft = tasks.reduce((a, t) => a + (t.bytes - t.bytesDone), 0);
    return {
      tasks,
      totals: {
        pending: tasks.filter((t) => t.status === 'pending').length,
        // Every open task the journal says is running: copying now, or waiting for an agent to settle or resolve it.
        running: tasks.filter((t) => t.status === 'running').length,
        paused: tasks.filter((t) => t.status === 'paused').length,
        bytesDone: tasks.reduce((a, t) => a + t.bytesDone, 0),
        bytesLeft,
        rateBytesPerSec: Math.round(rate),
        etaMs: rate > 0 ? (bytesLeft / rate) * 1000 : null,
        cleanupsOwed: this.owedCleanups.size,
      },
      waiting: this.lastWaiting,
      caps: this.getCaps(),
      policy: this.policy,
      paused: this.globalPause,
      adaptive: this.adaptiveEnabled,
    };
  }

  /** Resolves when no migration is open (or the timeout passes): for tests and benchmarks. */
  async drain(timeoutMs = 60_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.tasks.open().size === 0 && this.running.size === 0 && this.owedCleanups.size === 0) return true;
      await sleep(20);
    }
    return false;
  }
}
