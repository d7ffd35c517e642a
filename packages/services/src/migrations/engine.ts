import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

import { AppError, type LoadSample, type LoadThresholds, type Caps, type OrderingPolicy, type PlannedMove } from '@zkha/core';
import { countMigrationsByStatus, getMigration, listMigrations, type Db, type MigrationRecord } from '@zkha/db';
import type { FileStoragePort } from '@zkha/storage';

import type { RoomReservation } from '../capacity/node-capacities.ts';
import type { Clock } from '../shared/clock.ts';
import type { AppEvents } from '../shared/event-bus.ts';
import type { FileIndex } from '../files/file-index.ts';
import type { FileMetadataRegistry } from '../files/file-metadata.ts';
import type { BatchPoint, MigrationOrigin, MigrationProgress, MigrationStatusReport, NodeBandwidth, RecoveryReport } from './reports.ts';
import { Admission } from './admission.ts';
import { BatchRunner } from './batch-runner.ts';
import { MigrationNotices } from './notices.ts';
import { OpenTasks } from './open-tasks.ts';
import { MigrationQueue } from './queue.ts';
import { MoveResolution } from './resolution.ts';
import { MoveSettlement } from './settlement.ts';
import type { SharedMigrationJournal, SharedMove } from './shared-journal.ts';
import { statusReport } from './status.ts';
import { MigrationThrottle } from './throttle.ts';
import { TransferMeter } from './transfer-meter.ts';
import type { OperationsService } from '../logs/operations.ts';

/** What the engine is built on: its adapters, and the callbacks container.ts wires in. */
export interface MigrationEngineDeps {
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
  /** Runs one admitted batch: pull, commit, undo, fail, record. */
  private readonly runner: BatchRunner;
  /** Which queued moves start now, and why the rest wait. */
  private readonly admission: Admission;
  /** The queue: enqueue, project, adopt, add, update, cancel. */
  private readonly queue: MigrationQueue;
  private globalPause = false;
  /** Internal holds (see hold()); the queue moves only when there are none and no operator pause. */
  private holds = 0;
  private stopped = true;
  private stopping = false;
  /**
   * Whether agents that share a filesystem may hard-link instead of copying (with no bandwidth cap). On by default;
   * off, every move streams over HTTP as between hosts (the bench measures both paths this way).
   */
  private readonly sameHostLinks: boolean;
  /** Open tasks in memory, in step with the journal (see OpenTasks). */
  private readonly tasks: OpenTasks;
  /** Moves left owing settling, a cleanup or an outcome, retried until done; and recovery (see MoveResolution). */
  private readonly resolution: MoveResolution;

  constructor(
    private readonly deps: MigrationEngineDeps,
    opts: { caps?: Partial<Caps>; policy?: OrderingPolicy; sameHostLinks?: boolean } = {},
  ) {
    this.sameHostLinks = opts.sameHostLinks ?? true;
    this.tasks = new OpenTasks(deps.db, () => {
      this.admission.reorder();
    });
    this.resolution = new MoveResolution(deps, {
      tasks: this.tasks,
      settle: (items, o) => this.settlement.settle(items, o),
      cleanupCopies: (rows) => this.settlement.cleanupCopies(rows),
      recordMoves: (rows, counts) => this.runner.recordMoves(rows, counts),
      countNodes: (rows) => this.runner.countNodes(rows),
      reorder: () => this.admission.reorder(),
      kick: () => this.admission.kick(),
      progress: () => this.notices.progress(),
      filesChanged: () => this.notices.filesChanged(),
    });
    this.throttle = new MigrationThrottle(
      {
        operations: deps.operations,
        changed: () => {
          this.admission.kick();
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
      settled: (id) => this.resolution.unsettled.delete(id),
    });
    this.notices = new MigrationNotices(deps.events, { stopped: () => this.stopped, progress: () => this.progress() });
    this.meter = new TransferMeter({ nodes: () => deps.nodes ?? [], agentTraffic: deps.agentTraffic });
    this.policy = opts.policy ?? 'priority';
    this.runner = new BatchRunner(deps, {
      tasks: this.tasks,
      notices: this.notices,
      meter: this.meter,
      settlement: this.settlement,
      owedCleanups: this.resolution.owedCleanups,
      unsettled: this.resolution.unsettled,
      bandwidthCap: () => this.throttle.caps.bandwidthBytesPerSec,
      sameHostLinks: this.sameHostLinks,
      stopped: () => this.stopped,
    });
    this.admission = new Admission(deps, {
      tasks: this.tasks,
      notices: this.notices,
      runner: this.runner,
      caps: () => this.throttle.caps,
      policy: () => this.policy,
      stopped: () => this.stopped,
      held: () =>
        this.globalPause ? 'all migrations are paused by an operator' : this.holds > 0 ? 'held while the consistency check runs' : null,
      resolveLater: (rows, message) => this.resolution.resolveLater(rows, message),
    });
    this.queue = new MigrationQueue(deps, {
      tasks: this.tasks,
      notices: this.notices,
      admission: this.admission,
      unsure: this.resolution.unsure,
      progress: () => this.progress(),
    });
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
    this.admission.reorder();
    this.globalPause = s.paused;
    this.admission.kick();
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
    this.admission.reorder();
    this.admission.kick();
    this.deps.events.emit('changed', { kind: 'config' });
    return policy;
  }

  /** Tasks not yet finished (pending, paused, running), as the journal holds them. */
  openMigrations(): MigrationRecord[] {
    return [...this.tasks.open().values()];
  }

  /** Files with an open migration, which planners must not pick again. */
  busyFiles(): Set<string> {
    return this.queue.busyFiles();
  }

  /**
   * Queues a plan's moves (skipping files already queued). Returns the new tasks. `origin` (default `manual`)
   * says who asked: the automatic scheduler passes `auto`, and each move's operation says so when it commits.
   */
  enqueue(
    moves: readonly PlannedMove[],
    opts: { planId?: string; priority?: number; deadline?: string | null; origin?: MigrationOrigin } = {},
  ): MigrationRecord[] {
    return this.queue.enqueue(moves, opts);
  }

  /** A follower's view of the leader's queue (see MigrationQueue.projectShared). */
  projectShared(open: readonly { move: SharedMove; running: boolean }[], fileNode: (uuid: string) => string | null): void {
    this.queue.projectShared(open, fileNode);
  }

  /** Queues moves another leader had queued, from the shared journal (see MigrationQueue.adopt). */
  adopt(moves: readonly SharedMove[]): MigrationRecord[] {
    return this.queue.adopt(moves);
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
    const [row] = this.queue.insertTasks([move], randomUUID(), {
      priority: opts.priority ?? 10,
      ...(opts.origin ? { origin: opts.origin } : {}),
    });
    if (!row) throw new AppError('CONFLICT', `${move.name} is no longer on ${move.from}`);
    await this.admission.startSlot({ view: this.admission.view(row), ids: [row.id] });
    return getMigration(this.deps.db, row.id)!;
  }

  /** Queues one move an operator asked for, and records it (see MigrationQueue.addTask). */
  addTask(move: PlannedMove, opts: { priority: number; deadline?: string | null; origin?: MigrationOrigin; via: string }): MigrationRecord {
    return this.queue.addTask(move, opts);
  }

  /** Changes a queued task's priority or deadline (see MigrationQueue.updateTask). */
  updateTask(id: number, patch: { priority?: number; deadline?: string | null }): MigrationRecord {
    return this.queue.updateTask(id, patch);
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
      this.admission.kick();
    };
  }

  pause(id?: number): void {
    if (id === undefined) this.globalPause = true;
    else this.queue.setStatus(id, ['pending'], 'paused');
    this.notices.progress();
    if (id === undefined) this.deps.events.emit('changed', { kind: 'config' });
  }

  resume(id?: number): void {
    if (id === undefined) this.globalPause = false;
    else this.queue.setStatus(id, ['paused'], 'pending');
    this.admission.kick();
    if (id === undefined) this.deps.events.emit('changed', { kind: 'config' });
  }

  /**
   * Cancels a task (or all open tasks). A running copy is stopped and its partial copy removed: the file stays
   * whole on its source. A move past its commit point is finished instead: it is a few file operations from done.
   */
  cancel(id?: number): number {
    return this.queue.cancel(id);
  }
  list(opts: { status?: MigrationRecord['status']; planId?: string; limit?: number } = {}): MigrationRecord[] {
    return listMigrations(this.deps.db, opts);
  }

  start(): void {
    this.stopped = false;
    this.stopping = false;
    this.admission.kick();
    this.resolution.start();
  }

  /** Stops starting new copies and aborts running ones (their files stay whole on their sources). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.stopping = true;
    this.throttle.stopTimer();
    this.admission.stopTimer();
    this.resolution.stop();
    this.notices.holdProgress();
    for (const r of this.admission.running.values()) r.abort.abort(new Error('server stopping'));
    while (this.admission.running.size > 0) await sleep(10);
    this.notices.flush();
  }

  /** Looks at the queue again now (after something outside it changed: the quorum came back, a node joined). */
  wake(): void {
    this.admission.kick();
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
    return statusReport(countMigrationsByStatus(this.deps.db), this.progress(), this.bandwidthPerNode(), this.globalPause);
  }

  /**
   * Settles what a crash left mid-way (run before `start`). Before the commit point the source is intact, so
   * copies a target holds are deleted there (only this file's content, and only where no file row claims the
   * name) and the task is queued again. After it, the database already names the target, so ZooKeeper is brought
   * in line and the source copy deleted. Moves whose agents do not answer are resolved later, once they do.
   */
  recover(): Promise<RecoveryReport> {
    return this.resolution.recover();
  }

  progress(): MigrationProgress {
    const open = [...this.tasks.open().values()];
    const rate = this.meter.rateBytesPerSec();
    const tasks = open.map((m) => {
      const done = this.admission.running.get(m.id)?.bytesDone ?? m.bytesDone;
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
        cleanupsOwed: this.resolution.owedCleanups.size,
      },
      waiting: this.admission.waiting,
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
      if (this.tasks.open().size === 0 && this.admission.running.size === 0 && this.resolution.owedCleanups.size === 0) return true;
      await sleep(20);
    }
    return false;
  }
}
