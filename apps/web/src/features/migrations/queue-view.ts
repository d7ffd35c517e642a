/** Pure helpers behind the queue view: row order, wait reasons in words, per-task rates, what an event changed, a trailing throttle. */
// Type-only: erased from the bundle, and a new reason in the engine fails the type check here until it has words.
import type { WaitReason } from '@zkha/core';

export type { WaitReason };

export type TaskStatus = 'pending' | 'running' | 'completed' | 'failed' | 'cancelled' | 'paused';

export interface QueueTaskLike {
  id: number;
  status: TaskStatus;
  priority: number;
  bytes: number;
  bytesDone: number;
}

const STATUS_RANK: Record<TaskStatus, number> = { running: 0, paused: 1, pending: 2, failed: 3, cancelled: 4, completed: 5 };

/** Running first, then paused, then pending by priority (10 first), then oldest id: what moves next is on top. */
export function sortTasks<T extends QueueTaskLike>(tasks: readonly T[]): T[] {
  return [...tasks].sort((a, b) => STATUS_RANK[a.status] - STATUS_RANK[b.status] || b.priority - a.priority || a.id - b.id);
}

/** Every reason the engine gives has words here (the type check says when one is missing). */
export const WAIT_LABEL: Record<WaitReason, string> & Record<string, string> = {
  cap_total: 'Cluster-wide concurrency cap reached',
  cap_source: 'Source node at its outgoing cap',
  cap_target: 'Target node at its incoming cap',
  node_offline: 'A node is offline',
  target_full: 'Target node is full (high watermark)',
  paused: 'Paused by an operator',
  no_quorum: 'ZooKeeper has no quorum',
};

export interface WaitGroup {
  reason: WaitReason;
  count: number;
  /** The engine's own words for the first task held back this way. */
  example: string;
}

/** Waiting tasks grouped by reason, most common first: "12 × source node at its outgoing cap". */
export function groupWaiting(waiting: readonly { reason: WaitReason; message: string }[]): WaitGroup[] {
  const groups = new Map<WaitReason, WaitGroup>();
  for (const w of waiting) {
    const g = groups.get(w.reason);
    if (g) g.count++;
    else groups.set(w.reason, { reason: w.reason, count: 1, example: w.message });
  }
  return [...groups.values()].sort((a, b) => b.count - a.count);
}

/**
 * Per-task copy rate from successive progress events (the payload carries a rate only for the whole queue and,
 * per task, only once it has finished): bytes gained over the samples of the last `windowMs`. The payload
 * carries no time, so each event is stamped when it arrives (`now`, the clock by default).
 */
export class ThroughputTracker {
  private readonly samples = new Map<number, { t: number; bytes: number }[]>();

  constructor(private readonly windowMs = 5_000) {}

  update(tasks: readonly Pick<QueueTaskLike, 'id' | 'status' | 'bytesDone'>[], now = Date.now()): Map<number, number> {
    const rates = new Map<number, number>();
    const seen = new Set<number>();
    for (const task of tasks) {
      seen.add(task.id);
      if (task.status !== 'running') {
        this.samples.delete(task.id);
        continue;
      }
      const list = this.samples.get(task.id) ?? [];
      const last = list.at(-1);
      if (last && task.bytesDone < last.bytes) list.length = 0; // restarted from zero (requeued)
      list.push({ t: now, bytes: task.bytesDone });
      while (list.length > 2 && now - list[0]!.t > this.windowMs) list.shift();
      this.samples.set(task.id, list);
      const first = list[0]!;
      if (list.length >= 2 && now > first.t) rates.set(task.id, ((task.bytesDone - first.bytes) / (now - first.t)) * 1000);
    }
    for (const id of [...this.samples.keys()]) if (!seen.has(id)) this.samples.delete(id);
    return rates;
  }
}

/** What one progress event changed since the one before, for the views around the queue. */
export interface ProgressChange {
  /** A task left the open set: it finished, so the history is stale. */
  finished: boolean;
  /** The open set changed at all (files queued or released): the dry run, which skips queued files, is stale. */
  openSetChanged: boolean;
  /** The caps changed (by an operator or by adaptive mode): the change log has a new entry. */
  capsChanged: boolean;
}

/**
 * Compares each progress event with the one before; the first only sets the baseline. Like ThroughputTracker,
 * one instance lives as long as the subscription that feeds it.
 */
export class ProgressChanges {
  private openIds: ReadonlySet<number> | null = null;
  private capsKey: string | null = null;

  update(progress: { tasks: readonly Pick<QueueTaskLike, 'id'>[]; caps: unknown }): ProgressChange {
    const ids = new Set(progress.tasks.map((t) => t.id));
    const before = this.openIds;
    const finished = before !== null && [...before].some((id) => !ids.has(id));
    const openSetChanged = before !== null && (finished || ids.size !== before.size || [...ids].some((id) => !before.has(id)));
    this.openIds = ids;
    const key = JSON.stringify(progress.caps);
    const capsChanged = this.capsKey !== null && this.capsKey !== key;
    this.capsKey = key;
    return { finished, openSetChanged, capsChanged };
  }
}

/** Calls `fn` at most once per `ms`, always with a trailing call after the last request (nothing is lost). */
export function createThrottle(fn: () => void, ms: number) {
  let last = -Infinity;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const fire = () => {
    timer = null;
    last = Date.now();
    fn();
  };
  // Arrow properties: `request` is handed around on its own (a hook returns it as the refresh callback).
  return {
    request: (): void => {
      if (timer !== null) return;
      const wait = last + ms - Date.now();
      if (wait <= 0) fire();
      else timer = setTimeout(fire, wait);
    },
    cancel: (): void => {
      if (timer !== null) clearTimeout(timer);
      timer = null;
    },
  };
}
