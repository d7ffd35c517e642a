/**
 * Migration task ordering and admission. A whole plan can hold thousands of moves; copying them all at once
 * would saturate the nodes' disks and links and slow the clients down. This decides which pending migrations
 * start now, under a cluster-wide cap and per-node caps on outbound and inbound copies, in an order an operator
 * chooses (priority, deadline or a mixed importance score), and answers "why is nothing moving?" for every
 * task it holds back, in words. Pure: the caller passes the tasks, the caps and the clock reading.
 */
import { AppError } from '../errors.ts';
import { formatNumber, plural } from '../format.ts';

export type MigrationStatus = 'pending' | 'running' | 'completed' | 'failed' | 'cancelled' | 'paused';

export interface MigrationTaskView {
  id: string | number;
  /** The file being moved. */
  uuid: string;
  source: string;
  target: string;
  bytes: number;
  /** 1 (lowest) to 10 (highest), as in the seed design. */
  priority: number;
  /** Epoch ms by which the move should be done, or null. */
  deadline: number | null;
  createdAt: number;
  status: MigrationStatus;
  bytesDone: number;
}

export type OrderingPolicy = 'priority' | 'deadline' | 'importance';
export const ORDERING_POLICIES: readonly OrderingPolicy[] = ['priority', 'deadline', 'importance'];

/**
 * importance = 0.5 · priority/10 + 0.35 · urgency + 0.15 · (1 − remaining/maxRemaining), in [0, 1], where
 * - urgency is 0 without a deadline or with more than 24 h left, rises linearly to 1 as the deadline nears
 *   (the seed's "up to 24 points over the last 24 hours"), and is 1 once it has passed;
 * - remaining = bytes − bytesDone, and maxRemaining the largest among the tasks being compared: smaller and
 *   nearly finished copies win ties, as they free a slot soonest.
 * Priority leads so an operator's explicit choice dominates; a deadline inside the day can lift a task by up to
 * 3.5 priority levels.
 */
export const IMPORTANCE_WEIGHTS = { priority: 0.5, urgency: 0.35, size: 0.15 } as const;
export const URGENCY_HORIZON_MS = 24 * 60 * 60 * 1000;

const remainingBytes = (t: MigrationTaskView) => Math.max(0, t.bytes - t.bytesDone);

/** Deadline urgency in [0, 1]: see IMPORTANCE_WEIGHTS. */
export function urgency(deadline: number | null, now: number): number {
  if (deadline === null) return 0;
  const left = deadline - now;
  if (left <= 0) return 1;
  return Math.max(0, 1 - left / URGENCY_HORIZON_MS);
}

/**
 * The importance score in [0, 1] (formula on IMPORTANCE_WEIGHTS). `maxRemainingBytes` is the largest remaining
 * size among the tasks compared (orderTasks passes it); by default the task's own, which makes the size term 0.
 */
export function importanceScore(task: MigrationTaskView, now: number, maxRemainingBytes?: number): number {
  const priority = Math.min(10, Math.max(0, task.priority)) / 10;
  const max = maxRemainingBytes ?? remainingBytes(task);
  const size = max > 0 ? 1 - Math.min(1, remainingBytes(task) / max) : 1;
  return IMPORTANCE_WEIGHTS.priority * priority + IMPORTANCE_WEIGHTS.urgency * urgency(task.deadline, now) + IMPORTANCE_WEIGHTS.size * size;
}

function compareIds(a: string | number, b: string | number): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const x = String(a);
  const y = String(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Earlier deadlines first; no deadline sorts last. */
function compareDeadlines(a: number | null, b: number | null): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  return a - b;
}

/**
 * Tasks in the order they should start (a new array). Ties always fall to the older task, then the smaller id,
 * so the order is total and stable across calls.
 * - priority: higher priority first;
 * - deadline: earliest deadline first, tasks without one last, then higher priority;
 * - importance: higher importanceScore first, then higher priority.
 */
export function orderTasks(tasks: readonly MigrationTaskView[], policy: OrderingPolicy, now: number): MigrationTaskView[] {
  if (!ORDERING_POLICIES.includes(policy)) {
    throw new AppError('BAD_INPUT', `unknown ordering policy "${String(policy)}": expected one of ${ORDERING_POLICIES.join(', ')}`);
  }
  const tie = (a: MigrationTaskView, b: MigrationTaskView) => a.createdAt - b.createdAt || compareIds(a.id, b.id);
  switch (policy) {
    case 'priority':
      return [...tasks].sort((a, b) => b.priority - a.priority || tie(a, b));
    case 'deadline':
      return [...tasks].sort((a, b) => compareDeadlines(a.deadline, b.deadline) || b.priority - a.priority || tie(a, b));
    case 'importance': {
      let max = 0;
      for (const t of tasks) max = Math.max(max, remainingBytes(t));
      const score = new Map(tasks.map((t) => [t, importanceScore(t, now, max)]));
      return [...tasks].sort((a, b) => score.get(b)! - score.get(a)! || b.priority - a.priority || tie(a, b));
    }
  }
}

export interface Caps {
  /** Migrations running at once across the cluster. */
  maxConcurrent: number;
  /** Migrations a node may send at once. */
  maxPerNodeOut: number;
  /** Migrations a node may receive at once. */
  maxPerNodeIn: number;
  /** Per-node copy bandwidth shared by its inbound and outbound copies (see token-bucket.ts); null = unlimited. */
  bandwidthBytesPerSec: number | null;
}

export const DEFAULT_CAPS: Caps = { maxConcurrent: 4, maxPerNodeOut: 2, maxPerNodeIn: 2, bandwidthBytesPerSec: null };

export type WaitReason = 'cap_total' | 'cap_source' | 'cap_target' | 'node_offline' | 'target_full' | 'paused' | 'no_quorum';

export interface WaitingTask {
  id: string | number;
  reason: WaitReason;
  message: string;
}

export interface Admission {
  /** Tasks to start now, in start order. */
  start: MigrationTaskView[];
  /** Every other pending or paused task, in order, with why it waits. */
  waiting: WaitingTask[];
}

export interface AdmitContext {
  /** Nodes whose liveness says offline: nothing is copied from or to them. */
  offlineNodes?: Iterable<string>;
  /** Nodes at their high watermark: nothing is copied to them. */
  fullNodes?: Iterable<string>;
}

/**
 * Which pending tasks start now. Tasks are taken in `policy` order; each is held back for the first reason that
 * applies, checked from the most lasting to the most passing (paused, node offline, target full, then the
 * cluster cap, the source's outbound cap and the target's inbound cap). A task held back by a per-node cap does
 * not block later tasks between other nodes, so slots never sit idle behind a busy node.
 * `pending` may contain paused tasks (reported as waiting) and tasks in other states (ignored); `running` counts
 * against the caps only if its status is 'running'.
 */
export function admit(
  pending: readonly MigrationTaskView[],
  running: readonly MigrationTaskView[],
  caps: Caps,
  policy: OrderingPolicy,
  now: number,
  context: AdmitContext = {},
): Admission {
  const offline = new Set(context.offlineNodes ?? []);
  const full = new Set(context.fullNodes ?? []);
  let total = 0;
  const out = new Map<string, number>();
  const into = new Map<string, number>();
  for (const t of running) {
    if (t.status !== 'running') continue;
    total += 1;
    out.set(t.source, (out.get(t.source) ?? 0) + 1);
    into.set(t.target, (into.get(t.target) ?? 0) + 1);
  }

  const candidates = orderTasks(
    pending.filter((t) => t.status === 'pending' || t.status === 'paused'),
    policy,
    now,
  );
  const start: MigrationTaskView[] = [];
  const waiting: WaitingTask[] = [];
  for (const task of candidates) {
    const hold = (reason: WaitReason, message: string) => waiting.push({ id: task.id, reason, message });
    const sends = out.get(task.source) ?? 0;
    const receives = into.get(task.target) ?? 0;
    if (task.status === 'paused') {
      hold('paused', `paused by an operator: resume it to let it run`);
    } else if (offline.has(task.source)) {
      hold('node_offline', `${task.source} (the source) is offline: waiting for it to return`);
    } else if (offline.has(task.target)) {
      hold('node_offline', `${task.target} (the target) is offline: waiting for it to return`);
    } else if (full.has(task.target)) {
      hold('target_full', `${task.target} is at its high watermark: it takes no more files until space is freed`);
    } else if (total >= caps.maxConcurrent) {
      hold('cap_total', `${plural(total, 'migration')} already running (cluster cap ${formatNumber(caps.maxConcurrent)})`);
    } else if (sends >= caps.maxPerNodeOut) {
      hold('cap_source', `${task.source} already sends ${plural(sends, 'migration')} (per-node cap ${formatNumber(caps.maxPerNodeOut)})`);
    } else if (receives >= caps.maxPerNodeIn) {
      hold(
        'cap_target',
        `${task.target} already receives ${plural(receives, 'migration')} (per-node cap ${formatNumber(caps.maxPerNodeIn)})`,
      );
    } else {
      start.push(task);
      total += 1;
      out.set(task.source, sends + 1);
      into.set(task.target, receives + 1);
    }
  }
  return { start, waiting };
}
