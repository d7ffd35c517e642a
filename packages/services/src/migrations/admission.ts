import { admit, isAppError, orderTasks, type Caps, type MigrationTaskView, type OrderingPolicy, type WaitingTask } from '@zkha/core';
import type { MigrationRecord } from '@zkha/db';

import type { RoomReservation } from '../capacity/node-capacities.ts';
import type { Clock } from '../shared/clock.ts';
import type { BatchRunner, Running } from './batch-runner.ts';
import { errMessage } from './location.ts';
import type { MigrationNotices } from './notices.ts';
import type { OpenTasks } from './open-tasks.ts';

/**
 * Moves per batch. A batch is one pull (one request to the target agent, which fetches the files from the source in
 * framed groups), shares its journal writes (one statement per phase), its commit transaction, its ZooKeeper multi
 * and its delete on the source, and holds one slot of the concurrency caps. Per-move round trips, not bytes, are
 * the cost of small files; a batch pays them once.
 */
const BATCH_FILES = 1024;
/** A batch stops growing at this many bytes, so a cancel or a crash costs at most one such batch of work. */
const BATCH_BYTES = 64 * 1024 * 1024;
/** A unit of admission: a batch of moves between one pair of nodes. */
interface Slot {
  view: MigrationTaskView;
  ids: number[];
}

/** The engine's adapters admission reads (a subset of MigrationEngine's deps). */
export interface AdmissionDeps {
  clock: Clock;
  offlineNodes: () => readonly string[];
  reserveRoom?: (node: string, bytes: number) => RoomReservation;
  writeBlocked?: () => string | null;
}

/** The engine's state and parts admission works with. */
export interface AdmissionParts {
  tasks: OpenTasks;
  notices: MigrationNotices;
  runner: BatchRunner;
  caps: () => Caps;
  policy: () => OrderingPolicy;
  stopped: () => boolean;
  /** Why nothing may start now (an operator's pause, a hold), or null. */
  held: () => string | null;
  /** Moves a batch that failed unexpectedly left mid-way, to be resolved by recovery. */
  resolveLater: (rows: readonly MigrationRecord[], message: string) => void;
}

/**
 * Admission: which queued moves start now. Pending moves between one pair of nodes are grouped into batches, the
 * batches weighed under the caps and the ordering policy (`admit`), room held on each target, and each admitted
 * batch run in a slot by the BatchRunner; what stays queued is remembered with why (`waiting`).
 */
export class Admission {
  /** Moves in a running batch, by id. */
  readonly running = new Map<number, Running>();
  private readonly slots = new Map<number, Slot>();
  /** Pending task ids in policy order; rebuilt when tasks are added, resumed, or the policy changes. */
  private ordered: number[] | null = null;
  private pumpTimer: NodeJS.Timeout | null = null;
  /** Why the queued moves wait, as the last look found. */
  waiting: WaitingTask[] = [];
  private readonly tasks: OpenTasks;
  private readonly notices: MigrationNotices;
  private readonly runner: BatchRunner;

  constructor(
    private readonly deps: AdmissionDeps,
    private readonly parts: AdmissionParts,
  ) {
    this.tasks = parts.tasks;
    this.notices = parts.notices;
    this.runner = parts.runner;
  }

  /** The policy order no longer holds (tasks added, resumed or changed, or the policy changed). */
  reorder(): void {
    this.ordered = null;
  }

  /** No more looks at the queue until the next kick. */
  stopTimer(): void {
    if (this.pumpTimer) clearTimeout(this.pumpTimer);
    this.pumpTimer = null;
  }

  kick(): void {
    if (this.parts.stopped() || this.pumpTimer) return;
    this.pumpTimer = setTimeout(() => {
      this.pumpTimer = null;
      this.pump();
    }, 0);
  }

  view(m: MigrationRecord): MigrationTaskView {
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
  private pump(): void {
    if (this.parts.stopped()) return;
    const open = this.tasks.open();
    const held = this.parts.held();
    if (held !== null) return this.waitAll(open, 'paused', held);
    const blocked = this.deps.writeBlocked?.() ?? null;
    if (blocked !== null) return this.waitAll(open, 'no_quorum', blocked);
    const now = this.deps.clock.now().getTime();
    const units = this.batchUnits(open, now);
    const runningViews = [...this.slots.values()].map((s) => ({ ...s.view, status: 'running' as const }));
    const byId = new Map(units.map((u) => [Number(u.view.id), u]));
    const admission = admit(
      units.map((u) => u.view),
      runningViews,
      this.parts.caps(),
      this.parts.policy(),
      now,
      { offlineNodes: this.deps.offlineNodes() },
    );
    this.waiting = admission.waiting
      .flatMap((w) => (byId.get(Number(w.id))?.ids ?? [Number(w.id)]).map((id) => ({ ...w, id })))
      .slice(0, 256);
    for (const t of admission.start) {
      const unit = byId.get(Number(t.id))!;
      void this.startSlot(unit);
    }
    this.notices.progress();
  }

  /** Nothing starts (a pause, a hold, no quorum): every queued move waits for `reason`. */
  private waitAll(open: Map<number, MigrationRecord>, reason: WaitingTask['reason'], message: string): void {
    this.waiting = [...open.values()]
      .filter((m) => !this.running.has(m.id))
      .slice(0, 100)
      .map((t) => ({ id: t.id, reason, message }));
    this.notices.progress();
  }

  /**
   * The candidates for admission, from a window at the head of the policy order: pending moves between the same
   * two nodes grouped into batches (weighed as one migration: the first move's priority and deadline, the total
   * bytes), and each paused task alone.
   */
  private batchUnits(open: Map<number, MigrationRecord>, now: number): Slot[] {
    if (this.ordered === null) {
      const pendingViews = [...open.values()]
        .filter((m) => !this.running.has(m.id) && (m.status === 'pending' || m.status === 'paused'))
        .map((m) => this.view(m));
      this.ordered = orderTasks(pendingViews, this.parts.policy(), now).map((t) => Number(t.id));
    }
    // Admission looks at a window at the head of the order: enough to fill every slot with a full batch past busy
    // nodes, without re-sorting thousands of queued moves each time one finishes.
    const limit = Math.max(256, this.parts.caps().maxConcurrent * BATCH_FILES);
    // Pending moves between the same two nodes are grouped into batches; admission then weighs each batch as one
    // migration (its first move's priority and deadline, its total bytes). A paused task waits alone.
    const units: Slot[] = [];
    const batches = new Map<string, Slot>();
    // Under a bandwidth cap a batch holds about two seconds of bytes at the cap: a cancel, a pause or a crash then
    // costs seconds of work, not minutes (and a single file larger than that is a batch of its own).
    const cap = this.parts.caps().bandwidthBytesPerSec;
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
    return units;
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
        this.runner.fail(row, `${row.name} not moved to ${row.target}: ${err.message}`);
      }
    }
    return fit;
  }

  /** Runs one admitted unit in a slot of the caps; resolves when it is done (it never rejects). */
  startSlot(admitted: Slot): Promise<void> {
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
    return this.runner
      .execute(rs)
      .catch((err: unknown) =>
        this.parts.resolveLater(
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
}
