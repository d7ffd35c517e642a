import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, linkSync, unlinkSync } from 'node:fs';
import { link, lstat, open, unlink } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import {
  AdaptiveCaps,
  admit,
  AppError,
  isAppError,
  orderTasks,
  type FileRecord,
  type LoadSample,
  type LoadThresholds,
  DEFAULT_CAPS,
  PerNodeBandwidth,
  type Caps,
  type MigrationTaskView,
  type OrderingPolicy,
  type PlannedMove,
  type WaitingTask,
} from '@zkha/core';
import {
  commitMigrations,
  completeMigrations,
  countMigrationsByStatus,
  getFile,
  getMigration,
  getMigrationSources,
  insertMigrations,
  listMigrations,
  listOpenMigrations,
  listUnsettledMigrations,
  markMigrationsCopied,
  moveFileRecord,
  pathsOfFiles,
  startMigrations,
  updateMigration,
  updateMigrations,
  type Db,
  type MigrationPatch,
  type MigrationRecord,
} from '@zkha/db';
import type { FileStorage } from '@zkha/storage';

import type { RoomReservation } from './capacity.ts';
import type { Clock } from './clock.ts';
import type { AppEvents } from './events.ts';
import type { FileIndex } from './file-index.ts';
import type { FileMetadataRegistry } from './file-metadata.ts';
import type { OperationsService } from './operations.ts';

const CHUNK = 64 * 1024;

/**
 * Moves per same-filesystem batch. A batch shares its journal writes (one statement per phase), its commit
 * transaction and its ZooKeeper multi, and holds one slot of the concurrency caps while it runs (a few ms).
 */
const LINK_BATCH = 64;

/** Errors from link() that mean "no hard link between these folders", not "something is wrong": copy instead. */
const NO_LINK_CODES = new Set(['EXDEV', 'EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EMLINK']);

/** How far back the moved bytes are kept, and the window per-node bandwidth is averaged over. */
const RECENT_MS = 10_000;
const BANDWIDTH_WINDOW_MS = 5_000;

/** A tenth of a second's worth (at least one chunk): a short burst keeps measured throughput close to the cap. */
function burstFor(rate: number | null): number | undefined {
  return rate === null || !Number.isFinite(rate) ? undefined : Math.max(CHUNK, rate / 10);
}

function errCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function errMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Removes a name; a name already gone is fine. */
function unlinkQuietly(p: string): void {
  try {
    unlinkSync(p);
  } catch (err) {
    if (errCode(err) !== 'ENOENT') throw err;
  }
}

async function sha256Of(p: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(p, { highWaterMark: 1024 * 1024 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export interface MigrationProgress {
  tasks: (MigrationRecord & { etaMs: number | null })[];
  totals: { pending: number; running: number; paused: number; bytesDone: number; bytesLeft: number; rateBytesPerSec: number; etaMs: number | null };
  waiting: WaitingTask[];
  caps: Caps;
  policy: OrderingPolicy;
  paused: boolean;
  /** Adaptive caps on or off, live (the caps above are what it set last). */
  adaptive: boolean;
}

/** Who asked for a move: the automatic scheduler (`auto`) or an operator (`manual`). */
export type MigrationOrigin = 'auto' | 'manual';

/** Bytes per second a node sent and received for migrations lately, and its cap (null: unlimited). */
export interface NodeBandwidth {
  inBytesPerSec: number;
  outBytesPerSec: number;
  capBytesPerSec: number | null;
}

/**
 * The seed's `get_migration_status`. The counts are rows of the migrations journal by status, which keeps every
 * task since the database was created (finished ones included), so `completed` and `failed` outlive restarts.
 * `progress` is bytes-based over the tasks that are or were to be moved: completed ones count whole, open ones
 * (pending, running, paused) by the bytes copied so far; failed and cancelled tasks moved nothing and are left out.
 * Bandwidth is measured on the bytes the engine moved in the last `windowSec` seconds (a hard-linked move counts
 * its file's bytes, as it moves them from one node's folder to the other's).
 */
export interface MigrationStatusReport {
  total: number;
  pending: number;
  running: number;
  paused: number;
  completed: number;
  failed: number;
  cancelled: number;
  /** 0 to 1; 1 when there is nothing to move. */
  progress: number;
  bytesTotal: number;
  bytesDone: number;
  rateBytesPerSec: number;
  bandwidthPerNode: Record<string, NodeBandwidth>;
  windowSec: number;
  /** All migrations paused by an operator. */
  queuePaused: boolean;
}

export interface RecoveryReport {
  rolledBack: number;
  rolledForward: number;
  requeued: number;
}

/**
 * Points of a same-filesystem batch, in order, where the crash-safety tests stop the engine dead (their hook
 * never returns), as a SIGKILL would: `copying` journaled before any link; `linked` links made, journal still
 * copying; `copied` journaled; `committed` file rows moved; `published` znodes written; `unlinked` source names
 * removed, journal not yet cleaned.
 */
export type LinkBatchPoint = 'copying' | 'linked' | 'copied' | 'committed' | 'published' | 'unlinked';

interface Running {
  row: MigrationRecord;
  abort: AbortController;
  bytesDone: number;
  startedAt: number;
}

/** A unit of admission: one chunked copy, or a batch of same-filesystem moves between one pair of nodes. */
interface Slot {
  view: MigrationTaskView;
  ids: number[];
  link: boolean;
}

/**
 * Executes planned moves under impact control: overall and per-node concurrency caps, a per-node bandwidth cap
 * enforced on the real bytes (chunked copy through a token bucket), priorities and ordering policies, pause,
 * resume and cancel. Every move is journaled (planned → copying → copied → committed → cleaned) before the disk
 * is touched for that phase, so `recover()` can finish or undo whatever a crash interrupted: each file ends up
 * complete on exactly one node, and the disk, the database and ZooKeeper agree.
 *
 * With no bandwidth cap, moves between folders of one filesystem take the link path: the bytes stay where
 * they are, the target gets a hard link, and the source name goes once the move is committed. Such moves run
 * in batches (one slot of the caps each) whose journal writes, commit and ZooKeeper updates are shared, since
 * per-move round trips, not bytes, are then the whole cost.
 */
export class MigrationEngine {
  private caps: Caps;
  private policy: OrderingPolicy;
  private readonly bandwidth: PerNodeBandwidth;
  private readonly running = new Map<number, Running>();
  private readonly slots = new Map<number, Slot>();
  private globalPause = false;
  /** Internal holds (see hold()); the queue moves only when there are none and no operator pause. */
  private holds = 0;
  private adaptive: AdaptiveCaps | null = null;
  private adaptiveTimer: NodeJS.Timeout | null = null;
  private pumpTimer: NodeJS.Timeout | null = null;
  private settleTimer: NodeJS.Timeout | null = null;
  private stopped = true;
  private stopping = false;
  /** Bytes moved lately, per copy chunk or link batch, with the nodes they went between. */
  private readonly recent: { at: number; bytes: number; from: string; to: string }[] = [];
  /** Node pairs whose link() said "not here" (another device, no hard links): their moves are copied. */
  private readonly noLink = new Set<string>();
  /**
   * Open tasks (pending, running, paused) in memory, kept in step with every journal write: a plan of thousands
   * of moves must not be re-read from SQLite each time one move finishes.
   */
  private openTasks: Map<number, MigrationRecord> | null = null;
  /** Pending task ids in policy order; rebuilt when tasks are added, resumed, or the policy changes. */
  private ordered: number[] | null = null;
  /** Committed moves whose ZooKeeper update or source removal failed: retried until they are cleaned. */
  private readonly unsettled = new Map<number, MigrationRecord>();

  private open(): Map<number, MigrationRecord> {
    this.openTasks ??= new Map(listOpenMigrations(this.deps.db).map((m) => [m.id, m]));
    return this.openTasks;
  }

  /** Mirrors a journal change in memory. */
  private mirror(row: MigrationRecord): MigrationRecord {
    const open = this.open();
    if (row.status === 'pending' || row.status === 'running' || row.status === 'paused') open.set(row.id, row);
    else open.delete(row.id);
    if (row.status === 'pending') this.ordered = null;
    return row;
  }

  /** Writes a journal change and mirrors it in memory. */
  private update(id: number, patch: MigrationPatch, db: Db = this.deps.db): MigrationRecord {
    return this.mirror(updateMigration(db, id, patch));
  }

  /** One journal change for many rows (one statement), mirrored in memory. */
  private updateMany(rows: readonly MigrationRecord[], patch: MigrationPatch, write: (ids: number[]) => void = (ids) => updateMigrations(this.deps.db, ids, patch)): MigrationRecord[] {
    if (rows.length === 0) return [];
    write(rows.map((r) => r.id));
    return rows.map((r) => this.mirror({ ...(this.open().get(r.id) ?? r), ...patch }));
  }

  constructor(
    private readonly deps: {
      db: Db;
      storage: FileStorage;
      metadata: FileMetadataRegistry;
      index: FileIndex;
      operations: OperationsService;
      events: AppEvents;
      clock: Clock;
      offlineNodes: () => readonly string[];
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
      loadThresholds?: LoadThresholds;
      /** Crash-safety tests only: called at each point of a link batch; a promise that never settles freezes the batch there. */
      atLinkBatchPoint?: (point: LinkBatchPoint, ids: readonly number[]) => Promise<void> | void;
    },
    opts: { caps?: Partial<Caps>; policy?: OrderingPolicy } = {},
  ) {
    this.caps = { ...DEFAULT_CAPS, ...opts.caps };
    this.policy = opts.policy ?? 'priority';
    this.bandwidth = new PerNodeBandwidth({ ratePerSec: this.caps.bandwidthBytesPerSec, burst: burstFor(this.caps.bandwidthBytesPerSec), now: () => performance.now() });
  }

  getCaps(): Caps {
    return { ...this.caps };
  }

  setCaps(patch: Partial<Caps>, cause = 'operator'): Caps {
    const before = this.getCaps();
    this.caps = { ...this.caps, ...patch };
    if (patch.bandwidthBytesPerSec !== undefined) this.bandwidth.setRate(this.caps.bandwidthBytesPerSec, burstFor(this.caps.bandwidthBytesPerSec));
    this.deps.operations.record({ action: 'migration_caps', status: 'success', details: { cause, patch }, beforeMetrics: { ...before }, afterMetrics: { ...this.caps } });
    this.kick();
    return this.getCaps();
  }

  /**
   * Adaptive mode (off by default): every few seconds the load (CPU, event-loop lag, ZooKeeper latency) is
   * sampled and the caps are cut multiplicatively when any signal is high, raised additively when all are calm.
   * Each change goes through setCaps, so it is recorded with its cause.
   */
  setAdaptive(enabled: boolean, opts: { intervalMs?: number } = {}): { enabled: boolean } {
    if (this.adaptiveTimer) clearInterval(this.adaptiveTimer);
    this.adaptiveTimer = null;
    this.adaptive = null;
    if (enabled) {
      const base = { ...this.caps };
      const bw = base.bandwidthBytesPerSec;
      this.adaptive = new AdaptiveCaps({
        min: { maxConcurrent: 1, maxPerNodeOut: 1, maxPerNodeIn: 1, bandwidthBytesPerSec: bw === null ? null : Math.max(64 * 1024, Math.round(bw / 8)) },
        max: { ...base },
        base: { ...base },
        thresholds: this.deps.loadThresholds ?? { cpuLoad: 0.9, eventLoopLagMs: 100, zkLatencyMs: 50 },
      });
      this.adaptiveTimer = setInterval(() => this.adaptiveStep(), opts.intervalMs ?? 5_000);
      this.adaptiveTimer.unref();
    }
    this.deps.operations.record({ action: 'migration_adaptive', status: 'success', details: { enabled } });
    return { enabled };
  }

  get adaptiveEnabled(): boolean {
    return this.adaptive !== null;
  }

  /** One control step of adaptive mode (the interval calls it; tests call it directly). */
  adaptiveStep(): void {
    if (!this.adaptive || !this.deps.sampleLoad) return;
    const update = this.adaptive.update(this.deps.sampleLoad(), this.caps);
    if (update.changed) this.setCaps(update.caps, `adaptive: ${update.cause}`);
  }

  getPolicy(): OrderingPolicy {
    return this.policy;
  }

  setPolicy(policy: OrderingPolicy): OrderingPolicy {
    this.policy = policy;
    this.ordered = null;
    this.kick();
    return policy;
  }

  /** Tasks not yet finished (pending, paused, running), as the journal holds them. */
  openMigrations(): MigrationRecord[] {
    return [...this.open().values()];
  }

  /** Files with an open migration, which planners must not pick again. */
  busyFiles(): Set<string> {
    return new Set([...this.open().values()].map((m) => m.uuid));
  }

  /**
   * Queues a plan's moves (skipping files already queued). Returns the new tasks. `origin` (default `manual`)
   * says who asked: the automatic scheduler passes `auto`, and each move's operation says so when it commits.
   */
  enqueue(moves: readonly PlannedMove[], opts: { planId?: string; priority?: number; deadline?: string | null; origin?: MigrationOrigin } = {}): MigrationRecord[] {
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
  private insertTasks(moves: readonly PlannedMove[], planId: string, opts: { priority?: number; deadline?: string | null; origin?: MigrationOrigin }): MigrationRecord[] {
    const { db, storage, clock } = this.deps;
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
      const targetPath = storage.safePath(m.to, file.name);
      rows.push({
        planId,
        uuid: file.uuid,
        name: file.name,
        source: m.from,
        target: m.to,
        bytes: file.sizeBytes,
        sha256: file.sha256,
        sourcePath: file.path,
        targetPath,
        tempPath: path.join(path.dirname(targetPath), `.mig-${randomUUID().slice(0, 8)}.part`),
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
    for (const r of inserted) this.open().set(r.id, r);
    this.ordered = null;
    return inserted;
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
    const [row] = this.insertTasks([move], randomUUID(), { priority: opts.priority ?? 10, ...(opts.origin ? { origin: opts.origin } : {}) });
    if (!row) throw new AppError('CONFLICT', `${move.name} is no longer on ${move.from}`);
    await this.startSlot({ view: this.view(row), ids: [row.id], link: this.canLink(row.source, row.target) });
    return getMigration(this.deps.db, row.id)!;
  }

  /**
   * Queues one move an operator asked for (a chosen file to a chosen node, or the seed's `add_migration_task`),
   * under the caps like every move, and records it (`migration_task_add`). The caller has checked the move
   * (checkManualMove); this refuses only what changed since: the file queued meanwhile, or no longer at `from`.
   */
  addTask(move: PlannedMove, opts: { priority: number; deadline?: string | null; origin?: MigrationOrigin; via: string }): MigrationRecord {
    const busy = this.openMigrations().find((m) => m.uuid === move.uuid);
    if (busy) throw new AppError('CONFLICT', `${move.name} is already moving: migration ${busy.id} (${busy.status}, ${busy.source} → ${busy.target})`, { uuid: move.uuid, migration: busy.id });
    const before = this.open().size;
    const deadline = opts.deadline ? new Date(opts.deadline).toISOString() : null;
    const [row] = this.insertTasks([move], randomUUID(), { priority: opts.priority, deadline, origin: opts.origin ?? 'manual' });
    if (!row) throw new AppError('CONFLICT', `${move.name} is no longer on ${move.from}: the task is stale`, { uuid: move.uuid });
    this.deps.operations.record({
      action: 'migration_task_add',
      node: row.source,
      status: 'success',
      details: { id: row.id, uuid: row.uuid, name: row.name, source: row.source, target: row.target, bytes: row.bytes, priority: row.priority, deadline: row.deadline, origin: row.origin, via: opts.via },
      beforeMetrics: { openTasks: before },
      afterMetrics: { openTasks: this.open().size, task: { id: row.id, status: row.status, priority: row.priority, deadline: row.deadline } },
    });
    this.kick();
    this.emitProgress();
    return row;
  }

  /**
   * Changes a queued (pending or paused) task's priority or deadline (null clears it); the queue is re-ordered
   * at once under the current policy. A task that started or finished cannot change: CONFLICT says its status.
   */
  updateTask(id: number, patch: { priority?: number; deadline?: string | null }): MigrationRecord {
    const open = this.open().get(id);
    if (!open) {
      const row = getMigration(this.deps.db, id);
      if (!row) throw new AppError('TASK_NOT_FOUND', `no migration ${id}`, { id });
      throw new AppError('CONFLICT', `migration ${id} is ${row.status}: only a pending or paused task can change`, { id, status: row.status });
    }
    if (this.running.has(id) || (open.status !== 'pending' && open.status !== 'paused')) {
      throw new AppError('CONFLICT', `migration ${id} is running: only a pending or paused task can change`, { id, status: 'running' });
    }
    const change: MigrationPatch = {
      ...(patch.priority !== undefined ? { priority: patch.priority } : {}),
      ...(patch.deadline !== undefined ? { deadline: patch.deadline === null ? null : new Date(patch.deadline).toISOString() } : {}),
    };
    const row = this.update(id, change);
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
    this.emitProgress();
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
    this.emitProgress();
  }

  resume(id?: number): void {
    if (id === undefined) this.globalPause = false;
    else this.setStatus(id, ['paused'], 'pending');
    this.kick();
  }

  /**
   * Cancels a task (or all open tasks). A running copy is stopped and its partial copy removed: the file stays
   * whole on its source. A move past its commit point is finished instead: it is a few file operations from done.
   */
  cancel(id?: number): number {
    const open = [...this.open().values()].filter((m) => id === undefined || m.id === id);
    if (id !== undefined && open.length === 0) {
      if (!getMigration(this.deps.db, id)) throw new AppError('TASK_NOT_FOUND', `no migration ${id}`);
      throw new AppError('CONFLICT', `migration ${id} has already finished`);
    }
    let n = 0;
    const idle: MigrationRecord[] = [];
    for (const m of open) {
      if (m.phase === 'committed') continue;
      const r = this.running.get(m.id);
      if (r) r.abort.abort();
      else idle.push(m);
      n++;
    }
    this.updateMany(idle, { status: 'cancelled', finishedAt: this.deps.clock.now().toISOString() });
    this.deps.operations.record({ action: 'migration_cancel', status: 'success', details: { id: id ?? 'all', cancelled: n } });
    this.emitProgress();
    return n;
  }

  private setStatus(id: number, from: MigrationRecord['status'][], to: MigrationRecord['status']): void {
    const m = getMigration(this.deps.db, id);
    if (!m) throw new AppError('TASK_NOT_FOUND', `no migration ${id}`);
    if (!from.includes(m.status)) throw new AppError('CONFLICT', `migration ${id} is ${m.status}, not ${from.join(' or ')}`);
    this.update(id, { status: to });
    this.ordered = null;
  }

  list(opts: { status?: MigrationRecord['status']; planId?: string; limit?: number } = {}): MigrationRecord[] {
    return listMigrations(this.deps.db, opts);
  }

  start(): void {
    this.stopped = false;
    this.stopping = false;
    this.kick();
    if (this.unsettled.size > 0) this.scheduleSettle(0);
  }

  /** Stops starting new copies and aborts running ones (their files stay whole on their sources). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.stopping = true;
    if (this.adaptiveTimer) clearInterval(this.adaptiveTimer);
    if (this.pumpTimer) clearTimeout(this.pumpTimer);
    this.pumpTimer = null;
    if (this.settleTimer) clearTimeout(this.settleTimer);
    this.settleTimer = null;
    if (this.progressTimer) clearTimeout(this.progressTimer);
    for (const r of this.running.values()) r.abort.abort(new Error('server stopping'));
    while (this.running.size > 0) await sleep(10);
    if (this.changedTimer) clearTimeout(this.changedTimer);
    this.changedTimer = null;
    if (this.changedAgain) this.deps.events.emit('changed', { kind: 'files' });
    this.changedAgain = false;
    if (this.progressTimer) clearTimeout(this.progressTimer);
    this.progressTimer = null;
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

  /** Whether moves from `source` to `target` take the link path now: no bandwidth cap, and one filesystem. */
  private canLink(source: string, target: string): boolean {
    return this.caps.bandwidthBytesPerSec === null && !this.noLink.has(`${source}\u0000${target}`) && this.deps.storage.canHardLink(source, target);
  }

  /** Starts whatever the caps admit now, and remembers why the rest waits. */
  private lastWaiting: WaitingTask[] = [];
  private pump(): void {
    if (this.stopped) return;
    const open = this.open();
    const runningViews = [...this.slots.values()].map((s) => ({ ...s.view, status: 'running' as const }));
    if (this.globalPause || this.holds > 0) {
      const message = this.globalPause ? 'all migrations are paused by an operator' : 'held while the consistency check runs';
      this.lastWaiting = [...open.values()].filter((m) => !this.running.has(m.id)).slice(0, 100).map((t) => ({ id: t.id, reason: 'paused', message }));
      this.emitProgress();
      return;
    }
    const blocked = this.deps.writeBlocked?.() ?? null;
    if (blocked !== null) {
      this.lastWaiting = [...open.values()].filter((m) => !this.running.has(m.id)).slice(0, 100).map((t) => ({ id: t.id, reason: 'no_quorum', message: blocked }));
      this.emitProgress();
      return;
    }
    const now = this.deps.clock.now().getTime();
    if (this.ordered === null) {
      const pendingViews = [...open.values()].filter((m) => !this.running.has(m.id) && (m.status === 'pending' || m.status === 'paused')).map((m) => this.view(m));
      this.ordered = orderTasks(pendingViews, this.policy, now).map((t) => Number(t.id));
    }
    // Admission looks at a window at the head of the order: enough to fill every slot past busy nodes (with
    // link batches, every slot with a full batch), without re-sorting thousands of queued moves each time one finishes.
    const linking = this.caps.bandwidthBytesPerSec === null;
    const limit = linking ? Math.max(256, this.caps.maxConcurrent * LINK_BATCH) : 256;
    // Pending moves between the same two nodes of one filesystem are grouped into batches; admission then
    // weighs each batch as one migration (its first move's priority and deadline, its total bytes).
    const units: Slot[] = [];
    const batches = new Map<string, Slot>();
    const linkable = new Map<string, boolean>();
    let taken = 0;
    let skipped = 0;
    for (const id of this.ordered) {
      const m = open.get(id);
      if (!m || this.running.has(id) || (m.status !== 'pending' && m.status !== 'paused')) {
        skipped++;
        continue;
      }
      const pair = `${m.source}\u0000${m.target}`;
      let canLink = linkable.get(pair);
      if (canLink === undefined) linkable.set(pair, (canLink = linking && this.canLink(m.source, m.target)));
      if (m.status === 'pending' && canLink) {
        let b = batches.get(pair);
        if (!b || b.ids.length >= LINK_BATCH) {
          b = { view: this.view(m), ids: [], link: true };
          batches.set(pair, b);
          units.push(b);
        } else {
          b.view.bytes += m.bytes;
        }
        b.ids.push(id);
      } else {
        units.push({ view: this.view(m), ids: [id], link: false });
      }
      if (++taken >= limit) break;
    }
    if (skipped > 1024) this.ordered = this.ordered.filter((id) => open.get(id)?.status === 'pending' && !this.running.has(id));
    const byId = new Map(units.map((u) => [Number(u.view.id), u]));
    const admission = admit(
      units.map((u) => u.view),
      runningViews,
      this.caps,
      this.policy,
      now,
      { offlineNodes: this.deps.offlineNodes() },
    );
    this.lastWaiting = admission.waiting.flatMap((w) => (byId.get(Number(w.id))?.ids ?? [Number(w.id)]).map((id) => ({ ...w, id }))).slice(0, 256);
    for (const t of admission.start) {
      const unit = byId.get(Number(t.id))!;
      void this.startSlot(unit);
    }
    this.emitProgress();
  }

  /**
   * Holds room on the target for each move of a unit. A move that would pass its target's capacity fails now
   * with the NODE_FULL reason, before anything is copied: the planner's high watermark normally keeps such a
   * move out of a plan, but usage may have grown since it was planned. Returns the moves that fit.
   */
  private reserveTargets(ids: readonly number[], rooms: RoomReservation[]): number[] {
    if (!this.deps.reserveRoom) return [...ids];
    const fit: number[] = [];
    for (const id of ids) {
      const row = this.open().get(id)!;
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
    const open = this.open();
    const rooms: RoomReservation[] = [];
    const ids = this.reserveTargets(admitted.ids, rooms);
    if (ids.length === 0) {
      this.kick();
      this.emitProgress();
      return Promise.resolve();
    }
    const unit: Slot = ids.length === admitted.ids.length ? admitted : { ...admitted, ids, view: { ...admitted.view, id: ids[0]!, bytes: ids.reduce((a, id) => a + open.get(id)!.bytes, 0) } };
    const rs = unit.ids.map((id) => {
      const r: Running = { row: open.get(id)!, abort: new AbortController(), bytesDone: 0, startedAt: performance.now() };
      this.running.set(id, r);
      return r;
    });
    const key = unit.ids[0]!;
    this.slots.set(key, { ...unit, view: { ...unit.view, status: 'running' } });
    const work = unit.link ? this.executeLinks(rs) : this.execute(rs[0]!);
    return work
      .catch(() => undefined)
      .finally(() => {
        for (const room of rooms) room.release();
        for (const r of rs) this.running.delete(r.row.id);
        this.slots.delete(key);
        this.kick();
      });
  }

  private async execute(r: Running): Promise<void> {
    const { db, clock } = this.deps;
    const id = r.row.id;
    r.row = this.update(id, { status: 'running', phase: 'copying', startedAt: clock.now().toISOString(), error: null });
    try {
      await this.copy(r);
      this.update(id, { phase: 'copied', bytesDone: r.row.bytes });
      await this.commit(r.row);
      const seconds = (performance.now() - r.startedAt) / 1000;
      this.update(id, { status: 'completed', phase: 'cleaned', finishedAt: clock.now().toISOString(), throughput: Math.round(r.row.bytes / Math.max(seconds, 1e-3)) });
      this.deps.onMigration?.('success');
      this.filesChanged();
    } catch (err) {
      const cancelled = r.abort.signal.aborted;
      const message = errMessage(err);
      const now = getMigration(db, id);
      // Before the commit point the source is untouched: drop the partial copy and leave the file where it was.
      if (now && now.phase !== 'committed' && now.phase !== 'cleaned') {
        await unlink(r.row.tempPath).catch(() => undefined);
        this.update(id, {
          status: cancelled ? (this.stopped ? 'pending' : 'cancelled') : 'failed',
          phase: 'planned',
          bytesDone: 0,
          error: cancelled ? null : message,
          finishedAt: cancelled && this.stopped ? null : clock.now().toISOString(),
        });
      } else if (now && now.phase === 'committed') {
        // Past the commit point the move only has to be finished: retried until ZooKeeper and the disk agree.
        this.toSettle([this.update(id, { error: message })]);
      }
      if (!cancelled) {
        this.deps.onMigration?.('failed');
        this.deps.operations.record({ action: 'migration_failed', node: r.row.source, status: 'failed', details: { id, uuid: r.row.uuid, error: message } });
      }
    } finally {
      this.emitProgress();
    }
  }

  /** Chunked copy to the temp file under the bandwidth cap, hashing what is written; fsync before returning. */
  private async copy(r: Running): Promise<void> {
    const { row } = r;
    const out = await open(row.tempPath, 'wx');
    const hash = createHash('sha256');
    let lastPersist = 0;
    try {
      for await (const chunk of createReadStream(row.sourcePath, { highWaterMark: CHUNK, signal: r.abort.signal })) {
        const buf = chunk as Buffer;
        const wait = this.bandwidth.take(row.source, row.target, buf.length);
        if (wait > 0) await sleep(wait, undefined, { signal: r.abort.signal });
        await out.write(buf);
        hash.update(buf);
        r.bytesDone += buf.length;
        this.noteMoved(row.source, row.target, buf.length);
        if (r.bytesDone - lastPersist >= 8 * CHUNK) {
          lastPersist = r.bytesDone;
          this.emitProgress();
        }
      }
      await out.sync();
    } finally {
      await out.close();
    }
    const digest = hash.digest('hex');
    if (digest !== row.sha256) throw new AppError('CHECKSUM_MISMATCH', `copy of ${row.name} hashes to ${digest}, expected ${row.sha256}`);
  }

  /**
   * The commit point is one database transaction: the file row moves to the target and the journal says
   * `committed`. Before it, the copy is put in place under its final name; after it, ZooKeeper is updated and
   * the source removed. Recovery rolls back anything before the commit point and forward anything after it.
   */
  private async commit(row: MigrationRecord): Promise<void> {
    const { db, metadata, clock, index } = this.deps;
    // link + unlink instead of rename: fails instead of silently replacing a file that took the name meanwhile.
    await link(row.tempPath, row.targetPath);
    await unlink(row.tempPath);
    const at = clock.now().toISOString();
    let moved;
    try {
      moved = db.transaction((tx) => {
        const file = moveFileRecord(tx, row.uuid, { node: row.target, path: row.targetPath, historyEntry: { action: 'migrate', from: row.source, to: row.target, at } });
        this.update(row.id, { phase: 'committed' }, tx);
        return file;
      });
    } catch (err) {
      // Not committed (the file was deleted meanwhile, or the database refused): take back the copy we placed.
      await unlink(row.targetPath).catch(() => undefined);
      throw err;
    }
    const countsBefore = index.counts(this.countNodes([row]));
    index.move(row.uuid, row.target, 'migrate');
    this.recordMoves([row], countsBefore);
    await metadata.put(moved);
    await unlink(row.sourcePath).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }

  /**
   * A batch of same-filesystem moves (the link path). Each phase is journaled for the whole batch in one
   * statement before the disk is touched for it: `copying`, then a hard link gives each file its target name
   * (the bytes do not move), `copied`, then one transaction moves the file rows (`committed`), then one round
   * of ZooKeeper multis, the source names are removed, and `cleaned`. Recovery handles a crash between any two
   * steps exactly as for a chunked copy; a cancelled move is undone only while it is before the commit point.
   */
  private async executeLinks(rs: Running[]): Promise<void> {
    const { db, clock, index } = this.deps;
    const t0 = performance.now();
    const point = async (p: LinkBatchPoint, rows: readonly Running[]) => {
      if (this.deps.atLinkBatchPoint && rows.length > 0) await this.deps.atLinkBatchPoint(p, rows.map((r) => r.row.id));
    };
    const startedAt = clock.now().toISOString();
    let batch = this.updateMany(
      rs.map((r) => r.row),
      { status: 'running', phase: 'copying', startedAt, error: null },
      (ids) => startMigrations(db, ids, startedAt),
    );
    rs.forEach((r, i) => (r.row = batch[i]!));
    await point('copying', rs);

    const failed: { r: Running; message: string }[] = [];
    const copyInstead: Running[] = [];
    let linked: Running[] = [];
    for (const r of rs) {
      if (r.abort.signal.aborted) continue;
      // A synchronous link(): a metadata-only syscall of microseconds, measured cheaper than a threadpool round trip.
      try {
        linkSync(r.row.sourcePath, r.row.targetPath);
        linked.push(r);
      } catch (err) {
        const code = errCode(err);
        if (code !== undefined && NO_LINK_CODES.has(code)) {
          this.noLink.add(`${r.row.source}\u0000${r.row.target}`);
          copyInstead.push(r);
        } else {
          failed.push({
            r,
            message:
              code === 'EEXIST'
                ? `${r.row.name} already exists on ${r.row.target}`
                : code === 'ENOENT'
                  ? `${r.row.sourcePath} does not exist (or the folder of ${r.row.target} is missing)`
                  : errMessage(err),
          });
        }
      }
    }
    await point('linked', linked);
    // Cancelled (or stopping) before the commit point: remove the link, the file stays on its source.
    const aborted = rs.filter((r) => r.abort.signal.aborted && !failed.some((f) => f.r === r) && !copyInstead.includes(r));
    for (const r of aborted) if (linked.includes(r)) unlinkQuietly(r.row.targetPath);
    linked = linked.filter((r) => !r.abort.signal.aborted);
    const stoppedNow = this.stopped;
    this.updateMany(
      aborted.map((r) => r.row),
      { status: stoppedNow ? 'pending' : 'cancelled', phase: 'planned', bytesDone: 0, error: null, finishedAt: stoppedNow ? null : clock.now().toISOString() },
    );
    this.updateMany(
      copyInstead.map((r) => r.row),
      { status: 'pending', phase: 'planned', bytesDone: 0 },
    );
    for (const f of failed) this.fail(f.r.row, f.message);

    batch = this.updateMany(
      linked.map((r) => r.row),
      { phase: 'copied' },
      (ids) => markMigrationsCopied(db, ids),
    );
    for (const [i, r] of linked.entries()) {
      r.row = { ...batch[i]!, bytesDone: r.row.bytes };
      r.bytesDone = r.row.bytes;
    }
    await point('copied', linked);

    const at = clock.now().toISOString();
    let result: ReturnType<typeof commitMigrations>;
    try {
      result = commitMigrations(
        db,
        linked.map((r) => ({ id: r.row.id, uuid: r.row.uuid, sourcePath: r.row.sourcePath, target: r.row.target, targetPath: r.row.targetPath, historyEntry: { action: 'migrate', from: r.row.source, to: r.row.target, at } })),
        at,
      );
    } catch (err) {
      // The database refused the commit: nothing moved, take the links back.
      for (const r of linked) {
        unlinkQuietly(r.row.targetPath);
        this.fail(r.row, errMessage(err));
      }
      this.emitProgress();
      return;
    }
    // A file deleted (or moved by someone else) while linked: the link is ours and the only thing to undo.
    for (const id of result.missing) {
      const r = linked.find((x) => x.row.id === id)!;
      unlinkQuietly(r.row.targetPath);
      this.fail(r.row, `${r.row.name} was deleted or moved during the migration`);
    }
    const committed = linked.filter((r) => result.committed.has(r.row.id));
    batch = this.updateMany(
      committed.map((r) => r.row),
      { phase: 'committed' },
      () => undefined,
    );
    const countsBefore = index.counts(this.countNodes(committed.map((r) => r.row)));
    for (const r of committed) index.move(r.row.uuid, r.row.target, 'migrate');
    this.recordMoves(committed.map((r) => r.row), countsBefore);
    if (committed.length > 0) this.filesChanged();
    await point('committed', committed);

    try {
      await this.settle(
        committed.map((r) => ({ row: r.row, file: result.committed.get(r.row.id)! })),
        { seconds: () => (performance.now() - t0) / 1000, verify: false, point: (p) => point(p, committed) },
      );
      if (committed.length > 0) this.noteMoved(committed[0]!.row.source, committed[0]!.row.target, committed.reduce((a, r) => a + r.row.bytes, 0));
      for (let i = 0; i < committed.length; i++) this.deps.onMigration?.('success');
    } catch (err) {
      // Past the commit point the moves only have to be finished: retried until ZooKeeper and the disk agree.
      this.toSettle(this.updateMany(committed.map((r) => r.row), { error: errMessage(err) }));
    } finally {
      this.emitProgress();
    }
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
  private recordMoves(rows: readonly MigrationRecord[], countsBefore: Record<string, number>): void {
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
        },
        beforeMetrics: { counts: before },
        afterMetrics: { counts: after },
      });
      before = after;
    }
  }

  /** Bytes moved between two nodes just now, for the rate and the per-node bandwidth. */
  private noteMoved(from: string, to: string, bytes: number): void {
    const now = performance.now();
    this.recent.push({ at: now, bytes, from, to });
    // Trimmed here too, so the window stays small when nobody reads progress.
    if (this.recent.length > 4096) while (this.recent.length > 0 && now - this.recent[0]!.at > RECENT_MS) this.recent.shift();
  }

  /** Bytes per second each node sent and received over the last few seconds, with the per-node cap. */
  bandwidthPerNode(): Record<string, NodeBandwidth> {
    const now = performance.now();
    const out: Record<string, NodeBandwidth> = {};
    const cap = this.caps.bandwidthBytesPerSec;
    const entry = (node: string) => (out[node] ??= { inBytesPerSec: 0, outBytesPerSec: 0, capBytesPerSec: cap });
    for (const n of this.deps.nodes ?? []) entry(n);
    for (const s of this.recent) {
      if (now - s.at > BANDWIDTH_WINDOW_MS) continue;
      entry(s.from).outBytesPerSec += s.bytes;
      entry(s.to).inBytesPerSec += s.bytes;
    }
    const seconds = BANDWIDTH_WINDOW_MS / 1000;
    for (const b of Object.values(out)) {
      b.inBytesPerSec = Math.round(b.inBytesPerSec / seconds);
      b.outBytesPerSec = Math.round(b.outBytesPerSec / seconds);
    }
    return out;
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
  private fail(row: MigrationRecord, message: string): void {
    this.update(row.id, { status: 'failed', phase: 'planned', bytesDone: 0, error: message, finishedAt: this.deps.clock.now().toISOString() });
    this.deps.onMigration?.('failed');
    this.deps.operations.record({ action: 'migration_failed', node: row.source, status: 'failed', details: { id: row.id, uuid: row.uuid, error: message } });
  }

  /**
   * Finishes committed moves (the database already names their targets): the znodes are written in multis,
   * the source names removed, and the journal says `cleaned`. With `verify` (recovery, retries), a target that
   * is missing on disk gets the source's bytes first, so the source is never removed while it holds the only copy.
   */
  private async settle(
    items: readonly { row: MigrationRecord; file: FileRecord | null }[],
    opts: { seconds?: () => number; verify: boolean; point?: (p: LinkBatchPoint) => Promise<void> },
  ): Promise<void> {
    if (items.length === 0) return;
    await this.deps.metadata.putMany(items.flatMap((i) => (i.file ? [i.file] : [])));
    await opts.point?.('published');
    // Out of the live path the source name may be long gone and taken again by another file: never remove a
    // name a file row claims, or one that holds other bytes.
    const claimed = opts.verify ? pathsOfFiles(this.deps.db, items.map((i) => i.row.sourcePath)) : new Set<string>();
    for (const { row } of items) {
      if (opts.verify) {
        const target = await lstat(row.targetPath).catch(() => null);
        if (!target) await link(row.sourcePath, row.targetPath).catch(() => undefined);
        if (!(await lstat(row.targetPath).catch(() => null))) continue; // neither name exists: nothing to remove
        unlinkQuietly(row.tempPath);
        if (claimed.has(row.sourcePath) || !(await this.holdsOurBytes({ ...row, targetPath: row.sourcePath, sourcePath: row.targetPath }))) continue;
      }
      if (row.sourcePath !== row.targetPath) unlinkQuietly(row.sourcePath);
    }
    await opts.point?.('unlinked');
    const ids = items.map((i) => i.row.id);
    this.updateMany(
      items.map((i) => i.row),
      { status: 'completed', phase: 'cleaned', error: null },
      () => completeMigrations(this.deps.db, ids, this.deps.clock.now().toISOString(), opts.seconds?.()),
    );
    for (const id of ids) this.unsettled.delete(id);
  }

  private toSettle(rows: readonly MigrationRecord[]): void {
    for (const r of rows) this.unsettled.set(r.id, r);
    this.scheduleSettle(1000);
  }

  private scheduleSettle(delayMs: number): void {
    if (this.settleTimer || this.stopped) return;
    this.settleTimer = setTimeout(() => {
      this.settleTimer = null;
      const rows = [...this.unsettled.values()];
      void this.settle(
        rows.map((row) => ({ row, file: getFile(this.deps.db, row.uuid) })),
        { verify: true },
      )
        .then(() => this.filesChanged())
        .catch(() => this.scheduleSettle(1000))
        .finally(() => this.emitProgress());
    }, delayMs);
    this.settleTimer.unref();
  }

  /**
   * Settles what a crash left mid-way (run before `start`). Before the commit point: the source is intact, so
   * partial copies and placed links or copies are removed (only names that hold this file's bytes and that no
   * file row claims) and the task is queued again. After it: the database already names the target, so
   * ZooKeeper is brought in line and the source removed.
   */
  async recover(): Promise<RecoveryReport> {
    const { db, clock } = this.deps;
    const report: RecoveryReport = { rolledBack: 0, rolledForward: 0, requeued: 0 };
    const forward: { row: MigrationRecord; file: FileRecord }[] = [];
    const back: { row: MigrationRecord; file: FileRecord | null }[] = [];
    const deleted: MigrationRecord[] = [];
    for (const m of listUnsettledMigrations(db)) {
      const file = getFile(db, m.uuid);
      if (!file) deleted.push(m);
      else if (m.phase === 'committed' || (file.node === m.target && file.path === m.targetPath)) forward.push({ row: m, file });
      else back.push({ row: m, file });
    }
    // Names a file row claims are never removed, whatever the journal says.
    const claimed = pathsOfFiles(db, [...back.map((b) => b.row.targetPath), ...deleted.flatMap((m) => [m.sourcePath, m.targetPath])]);
    const ours = async (m: MigrationRecord) => !claimed.has(m.targetPath) && (await this.holdsOurBytes(m));

    const requeue: { row: MigrationRecord; file: FileRecord }[] = [];
    const late: MigrationRecord[] = [];
    for (const { row: m, file } of back) {
      const targetOurs = await ours(m);
      if (targetOurs && file?.path === m.sourcePath && !(await lstat(m.sourcePath).catch(() => null))) {
        // Only the target name is left: the move got further than its journal (a power cut can lose the last
        // database transactions and keep the file system's). Finishing it is the only way to keep the file.
        late.push(m);
        continue;
      }
      if (targetOurs) unlinkQuietly(m.targetPath);
      unlinkQuietly(m.tempPath);
      if (file) requeue.push({ row: m, file });
    }
    if (late.length > 0) {
      const at = clock.now().toISOString();
      const { committed } = commitMigrations(
        db,
        late.map((m) => ({ id: m.id, uuid: m.uuid, sourcePath: m.sourcePath, target: m.target, targetPath: m.targetPath, historyEntry: { action: 'migrate', from: m.source, to: m.target, at } })),
        at,
      );
      for (const m of late) {
        const file = committed.get(m.id);
        if (file) forward.push({ row: { ...m, phase: 'committed' }, file });
      }
      // Moves committed here, not by the copy that got that far: they are executed moves all the same.
      const moved = late.filter((m) => committed.has(m.id));
      this.recordMoves(moved, this.deps.index.counts(this.countNodes(moved)));
    }
    // The file was deleted while it moved: whichever of its names still holds its bytes goes too.
    for (const m of deleted) {
      for (const p of [m.sourcePath, m.targetPath]) {
        if (!claimed.has(p) && (await lstat(p).catch(() => null))?.size === m.bytes && (await sha256Of(p).catch(() => null)) === m.sha256) unlinkQuietly(p);
      }
      unlinkQuietly(m.tempPath);
    }
    updateMigrations(
      db,
      requeue.map((r) => r.row.id),
      { status: 'pending', phase: 'planned', bytesDone: 0 },
    );
    updateMigrations(
      db,
      deleted.map((m) => m.id),
      { status: 'failed', phase: 'planned', bytesDone: 0, error: 'the file was deleted during the migration', finishedAt: clock.now().toISOString() },
    );
    // ZooKeeper holds the database's view of a rolled-back file (only a power cut could have put it ahead).
    await this.deps.metadata.putMany(requeue.map((r) => r.file));
    await this.settle(forward, { verify: true });
    report.rolledBack = back.length - late.length + deleted.length;
    report.requeued = requeue.length;
    report.rolledForward = forward.length;
    // Tasks marked running whose copy had not begun (phase planned) simply go back to the queue.
    const started = listOpenMigrations(db).filter((m) => m.status === 'running' && m.phase === 'planned');
    updateMigrations(
      db,
      started.map((m) => m.id),
      { status: 'pending' },
    );
    report.requeued += started.length;
    this.openTasks = null;
    this.ordered = null;
    if (report.rolledBack + report.rolledForward > 0) {
      this.deps.operations.record({ action: 'migration_recovery', status: 'success', details: { ...report } });
    }
    return report;
  }

  /**
   * Whether the target name of an unfinished move is this move's doing: the same inode as the source (a link)
   * or as the temp file (a copy just placed), or failing that a regular file with exactly this file's bytes.
   */
  private async holdsOurBytes(m: MigrationRecord): Promise<boolean> {
    const target = await lstat(m.targetPath).catch(() => null);
    if (!target?.isFile()) return false;
    for (const p of [m.sourcePath, m.tempPath]) {
      const other = await lstat(p).catch(() => null);
      if (other && other.ino === target.ino && other.dev === target.dev) return true;
    }
    return target.size === m.bytes && (await sha256Of(m.targetPath).catch(() => null)) === m.sha256;
  }

  progress(): MigrationProgress {
    const open = [...this.open().values()];
    const now = performance.now();
    while (this.recent.length > 0 && now - this.recent[0]!.at > RECENT_MS) this.recent.shift();
    const windowMs = Math.min(RECENT_MS, Math.max(1, now - (this.recent[0]?.at ?? now)));
    const rate = this.recent.length > 1 ? (this.recent.reduce((a, s) => a + s.bytes, 0) / windowMs) * 1000 : 0;
    const tasks = open.map((m) => {
      const done = this.running.get(m.id)?.bytesDone ?? m.bytesDone;
      return { ...m, bytesDone: done, etaMs: rate > 0 ? ((m.bytes - done) / rate) * 1000 : null };
    });
    const bytesLeft = tasks.reduce((a, t) => a + (t.bytes - t.bytesDone), 0);
    return {
      tasks,
      totals: {
        pending: tasks.filter((t) => t.status === 'pending').length,
        running: this.running.size,
        paused: tasks.filter((t) => t.status === 'paused').length,
        bytesDone: tasks.reduce((a, t) => a + t.bytesDone, 0),
        bytesLeft,
        rateBytesPerSec: Math.round(rate),
        etaMs: rate > 0 ? (bytesLeft / rate) * 1000 : null,
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
      if (this.open().size === 0 && this.running.size === 0) return true;
      await sleep(20);
    }
    return false;
  }

  private changedTimer: NodeJS.Timeout | null = null;
  private changedAgain = false;
  /**
   * Files moved: the re-planner and the UI hear of it at once, then at most five times a second however many
   * batches finish (each notice makes the server re-plan over every file).
   */
  private filesChanged(): void {
    if (this.changedTimer) {
      this.changedAgain = true;
      return;
    }
    this.deps.events.emit('changed', { kind: 'files' });
    this.changedTimer = setTimeout(() => {
      this.changedTimer = null;
      if (this.changedAgain) {
        this.changedAgain = false;
        this.filesChanged();
      }
    }, 200);
    this.changedTimer.unref();
  }

  private progressTimer: NodeJS.Timeout | null = null;
  private emitProgress(): void {
    // Nobody subscribed: the progress of thousands of queued tasks is not worth computing ten times a second
    // (a new subscriber reads progress() first, then follows these events).
    if (this.progressTimer || this.stopped || this.deps.events.listenerCount('migrations') === 0) return;
    // At most ten progress events a second, however many chunks are copied.
    this.progressTimer = setTimeout(() => {
      this.progressTimer = null;
      this.deps.events.emit('migrations', this.progress());
    }, 100);
    this.progressTimer.unref();
  }
}
