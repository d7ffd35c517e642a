import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { link, open, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import {
  AdaptiveCaps,
  admit,
  AppError,
  orderTasks,
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
  getFile,
  getMigration,
  insertMigrations,
  listMigrations,
  listOpenMigrations,
  listUnsettledMigrations,
  moveFileRecord,
  updateMigration,
  type Db,
  type MigrationRecord,
} from '@zkha/db';
import type { FileStorage } from '@zkha/storage';

import type { Clock } from './clock.ts';
import type { AppEvents } from './events.ts';
import type { FileIndex } from './file-index.ts';
import type { FileMetadataRegistry } from './file-metadata.ts';
import type { OperationsService } from './operations.ts';

const CHUNK = 64 * 1024;

/** A tenth of a second's worth (at least one chunk): a short burst keeps measured throughput close to the cap. */
function burstFor(rate: number | null): number | undefined {
  return rate === null || !Number.isFinite(rate) ? undefined : Math.max(CHUNK, rate / 10);
}

export interface MigrationProgress {
  tasks: (MigrationRecord & { etaMs: number | null })[];
  totals: { pending: number; running: number; paused: number; bytesDone: number; bytesLeft: number; rateBytesPerSec: number; etaMs: number | null };
  waiting: WaitingTask[];
  caps: Caps;
  policy: OrderingPolicy;
  paused: boolean;
}

export interface RecoveryReport {
  rolledBack: number;
  rolledForward: number;
  requeued: number;
}

interface Running {
  row: MigrationRecord;
  abort: AbortController;
  bytesDone: number;
  startedAt: number;
}

/**
 * Executes planned moves under impact control: overall and per-node concurrency caps, a per-node bandwidth cap
 * enforced on the real bytes (chunked copy through a token bucket), priorities and ordering policies, pause,
 * resume and cancel. Every move is journaled (planned → copying → copied → committed → cleaned) before the disk
 * is touched for that phase, so `recover()` can finish or undo whatever a crash interrupted: each file ends up
 * complete on exactly one node, and the disk, the database and ZooKeeper agree.
 */
export class MigrationEngine {
  private caps: Caps;
  private policy: OrderingPolicy;
  private readonly bandwidth: PerNodeBandwidth;
  private readonly running = new Map<number, Running>();
  private globalPause = false;
  private adaptive: AdaptiveCaps | null = null;
  private adaptiveTimer: NodeJS.Timeout | null = null;
  private pumpTimer: NodeJS.Timeout | null = null;
  private stopped = true;
  private readonly recent: { at: number; bytes: number }[] = [];
  /**
   * Open tasks (pending, running, paused) in memory, kept in step with every journal write: a plan of thousands
   * of moves must not be re-read from SQLite each time one move finishes.
   */
  private openTasks: Map<number, MigrationRecord> | null = null;
  /** Pending task ids in policy order; rebuilt when tasks are added, resumed, or the policy changes. */
  private ordered: number[] | null = null;

  private open(): Map<number, MigrationRecord> {
    this.openTasks ??= new Map(listOpenMigrations(this.deps.db).map((m) => [m.id, m]));
    return this.openTasks;
  }

  /** Writes a journal change and mirrors it in memory. */
  private update(id: number, patch: Parameters<typeof updateMigration>[2], db: Db = this.deps.db): MigrationRecord {
    const row = updateMigration(db, id, patch);
    const open = this.open();
    if (row.status === 'pending' || row.status === 'running' || row.status === 'paused') open.set(id, row);
    else open.delete(id);
    if (patch.status === 'pending') this.ordered = null;
    return row;
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
      onMigration?: (result: 'success' | 'failed') => void;
      /** Load signals for adaptive mode. */
      sampleLoad?: () => LoadSample;
      loadThresholds?: LoadThresholds;
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

  /** Files with an open migration, which planners must not pick again. */
  /** Tasks not yet finished (pending, paused, running), as the journal holds them. */
  openMigrations(): MigrationRecord[] {
    return [...this.open().values()];
  }

  busyFiles(): Set<string> {
    return new Set([...this.open().values()].map((m) => m.uuid));
  }

  /** Queues a plan's moves (skipping files already queued). Returns the new tasks. */
  enqueue(moves: readonly PlannedMove[], opts: { planId?: string; priority?: number; deadline?: string | null } = {}): MigrationRecord[] {
    const { db, storage, clock } = this.deps;
    const busy = this.busyFiles();
    const planId = opts.planId ?? randomUUID();
    const now = clock.now().toISOString();
    const rows = [];
    for (const m of moves) {
      if (busy.has(m.uuid)) continue;
      const file = getFile(db, m.uuid);
      if (!file || file.node !== m.from) continue; // the plan is stale for this file
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
      });
    }
    const inserted = insertMigrations(db, rows);
    for (const r of inserted) this.open().set(r.id, r);
    this.ordered = null;
    if (inserted.length > 0) {
      this.deps.operations.record({
        action: 'migration_plan',
        status: 'success',
        details: { planId, moves: inserted.length, bytes: inserted.reduce((a, r) => a + r.bytes, 0) },
      });
    }
    this.kick();
    return inserted;
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

  /** Cancels a task (or all open tasks). A running copy is stopped and its partial copy removed: the file stays whole on its source. */
  cancel(id?: number): number {
    const open = [...this.open().values()].filter((m) => id === undefined || m.id === id);
    if (id !== undefined && open.length === 0) {
      if (!getMigration(this.deps.db, id)) throw new AppError('TASK_NOT_FOUND', `no migration ${id}`);
      throw new AppError('CONFLICT', `migration ${id} has already finished`);
    }
    let n = 0;
    for (const m of open) {
      const r = this.running.get(m.id);
      if (r) r.abort.abort();
      else this.update(m.id, { status: 'cancelled', finishedAt: this.deps.clock.now().toISOString() });
      n++;
    }
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
    this.kick();
  }

  /** Stops starting new copies and aborts running ones (their files stay whole on their sources). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.adaptiveTimer) clearInterval(this.adaptiveTimer);
    if (this.pumpTimer) clearTimeout(this.pumpTimer);
    if (this.progressTimer) clearTimeout(this.progressTimer);
    for (const r of this.running.values()) r.abort.abort(new Error('server stopping'));
    while (this.running.size > 0) await sleep(10);
    if (this.progressTimer) clearTimeout(this.progressTimer);
    this.progressTimer = null;
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
    const open = this.open();
    const runningViews = [...this.running.keys()].map((id) => open.get(id)).filter((m) => m !== undefined).map((m) => ({ ...this.view(m), status: 'running' as const }));
    if (this.globalPause) {
      this.lastWaiting = [...open.values()].filter((m) => !this.running.has(m.id)).slice(0, 100).map((t) => ({ id: t.id, reason: 'paused', message: 'all migrations are paused by an operator' }));
      this.emitProgress();
      return;
    }
    const now = this.deps.clock.now().getTime();
    if (this.ordered === null) {
      const pendingViews = [...open.values()].filter((m) => !this.running.has(m.id) && (m.status === 'pending' || m.status === 'paused')).map((m) => this.view(m));
      this.ordered = orderTasks(pendingViews, this.policy, now).map((t) => Number(t.id));
    }
    // Admission looks at a window at the head of the order: enough to fill every slot past busy nodes,
    // without re-sorting thousands of queued moves each time one finishes.
    const window: MigrationTaskView[] = [];
    let skipped = 0;
    for (const id of this.ordered) {
      const m = open.get(id);
      if (!m || this.running.has(id) || (m.status !== 'pending' && m.status !== 'paused')) {
        skipped++;
        continue;
      }
      window.push(this.view(m));
      if (window.length >= 256) break;
    }
    if (skipped > 1024) this.ordered = this.ordered.filter((id) => open.get(id)?.status === 'pending' && !this.running.has(id));
    const admission = admit(window, runningViews, this.caps, this.policy, now, { offlineNodes: this.deps.offlineNodes() });
    this.lastWaiting = admission.waiting;
    for (const t of admission.start) {
      const row = open.get(Number(t.id))!;
      const r: Running = { row, abort: new AbortController(), bytesDone: 0, startedAt: performance.now() };
      this.running.set(row.id, r);
      void this.execute(r).finally(() => {
        this.running.delete(row.id);
        this.kick();
      });
    }
    this.emitProgress();
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
      this.deps.events.emit('changed', { kind: 'files' });
    } catch (err) {
      const cancelled = r.abort.signal.aborted;
      const message = err instanceof Error ? err.message : String(err);
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
      } else if (now) {
        this.update(id, { error: message });
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
        this.recent.push({ at: performance.now(), bytes: buf.length });
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
    index.move(row.uuid, row.target, 'migrate');
    await metadata.put(moved);
    await unlink(row.sourcePath).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }

  /**
   * Settles what a crash left mid-way (run before `start`). Before the commit point: the source is intact, so
   * partial or placed copies are removed and the task is queued again. After it: the database already names
   * the target, so ZooKeeper is brought in line and the source removed.
   */
  async recover(): Promise<RecoveryReport> {
    const { db, metadata } = this.deps;
    const report: RecoveryReport = { rolledBack: 0, rolledForward: 0, requeued: 0 };
    for (const m of listUnsettledMigrations(db)) {
      const file = getFile(db, m.uuid);
      if (m.phase === 'committed' || (file && file.node === m.target && file.path === m.targetPath)) {
        if (file) await metadata.put(file);
        await unlink(m.sourcePath).catch(() => undefined);
        await unlink(m.tempPath).catch(() => undefined);
        updateMigration(db, m.id, { status: 'completed', phase: 'cleaned', finishedAt: this.deps.clock.now().toISOString() });
        report.rolledForward++;
      } else {
        await unlink(m.tempPath).catch(() => undefined);
        if (file && file.path !== m.targetPath) await unlink(m.targetPath).catch(() => undefined);
        updateMigration(db, m.id, { status: 'pending', phase: 'planned', bytesDone: 0 });
        report.rolledBack++;
        report.requeued++;
      }
    }
    // Tasks marked running whose copy had not begun (phase planned) simply go back to the queue.
    for (const m of listOpenMigrations(db)) {
      if (m.status === 'running') {
        updateMigration(db, m.id, { status: 'pending' });
        report.requeued++;
      }
    }
    this.openTasks = null;
    this.ordered = null;
    if (report.rolledBack + report.rolledForward > 0) {
      this.deps.operations.record({ action: 'migration_recovery', status: 'success', details: { ...report } });
    }
    return report;
  }

  progress(): MigrationProgress {
    const open = [...this.open().values()];
    const now = performance.now();
    while (this.recent.length > 0 && now - this.recent[0]!.at > 10_000) this.recent.shift();
    const windowMs = Math.min(10_000, Math.max(1, now - (this.recent[0]?.at ?? now)));
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

  private progressTimer: NodeJS.Timeout | null = null;
  private emitProgress(): void {
    if (this.progressTimer || this.stopped) return;
    // At most ten progress events a second, however many chunks are copied.
    this.progressTimer = setTimeout(() => {
      this.progressTimer = null;
      this.deps.events.emit('migrations', this.progress());
    }, 100);
    this.progressTimer.unref();
  }
}
