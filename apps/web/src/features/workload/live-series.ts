/**
 * The workload charts' data, built in the browser from the live streams: each plan from scheduler.onPlan
 * is a point of "files per node" and "spread vs threshold", each move operation from logs.onOperation (one per
 * batch: `auto_migrate` from the scheduler, `migrate` from an operator) adds its moves to its 10-second bucket.
 * Kept at module level so the history survives moving between pages.
 */
import type { BalanceUnit } from '@zkha/core';

export interface PlanPoint {
  t: number;
  counts: Record<string, number>;
  /** The spread (max − min) in `unit`; null for points rebuilt from the operations log, which records counts only. */
  delta: number | null;
  /** The threshold in `unit`. */
  threshold: number | null;
  unit?: BalanceUnit | null;
}

/** Who asked for a batch of moves: the scheduler (`auto_migrate`) or an operator (`migrate`). */
export type MoveKind = 'automatic' | 'manual';

export interface MoveBatch {
  t: number;
  /** Moves in the batch (its operation's `details.count`). */
  count: number;
  kind: MoveKind;
}

export interface SeriesState {
  plans: PlanPoint[];
  /** Move operation id → its batch, deduplicated by id (seeded from the log, then live). */
  migrations: Map<number, MoveBatch>;
}

export const HISTORY_MS = 10 * 60_000;
export const CHART_WINDOW_MS = 5 * 60_000;
export const BUCKET_MS = 10_000;

export function emptySeries(): SeriesState {
  return { plans: [], migrations: new Map() };
}

/**
 * Adds a point in time order (log seeds arrive after live points). A point equal to the one before it adds
 * nothing: the step line already runs on to "now".
 */
export function addPlan(state: SeriesState, p: PlanPoint): SeriesState {
  let i = state.plans.length;
  while (i > 0 && state.plans[i - 1]!.t > p.t) i--;
  const prev = state.plans[i - 1];
  if (prev && prev.delta === p.delta && prev.threshold === p.threshold && prev.unit === p.unit && sameCounts(prev.counts, p.counts))
    return state;
  const newest = Math.max(p.t, state.plans.at(-1)?.t ?? p.t);
  const plans = [...state.plans.slice(0, i), p, ...state.plans.slice(i)].filter((x) => x.t >= newest - HISTORY_MS);
  return { ...state, plans };
}

export function addMigration(state: SeriesState, id: number, batch: MoveBatch): SeriesState {
  if (state.migrations.has(id)) return state;
  const migrations = new Map(state.migrations);
  migrations.set(id, batch);
  for (const [k, b] of migrations) if (b.t < batch.t - HISTORY_MS) migrations.delete(k);
  return { ...state, migrations };
}

/**
 * The batch a successful move operation stands for, or null for any other operation. Records written before
 * batches carried a count stand for one move.
 */
export function moveBatchOf(op: { action: string; status: string; timestamp: string; details: Record<string, unknown> }): MoveBatch | null {
  if (op.status !== 'success' || (op.action !== 'auto_migrate' && op.action !== 'migrate')) return null;
  const c = op.details.count;
  const count = typeof c === 'number' && Number.isFinite(c) && c >= 0 ? c : 1;
  return { t: Date.parse(op.timestamp), count, kind: op.action === 'auto_migrate' ? 'automatic' : 'manual' };
}

function sameCounts(a: Record<string, number>, b: Record<string, number>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

export type FilesRow = { t: number } & Record<string, number>;
export interface DeltaRow {
  t: number;
  delta: number | null;
  threshold: number | null;
}
export interface BucketRow {
  t: number;
  automatic: number;
  manual: number;
}

/** The shortest window shown: a fresh page zooms in on the little history it has, down to this. */
export const MIN_WINDOW_MS = 60_000;

/**
 * Where the charts' time axis starts: `windowMs` back at most, but no further than shortly before the first
 * thing known, so a page opened a minute ago does not draw a mostly empty five-minute axis.
 */
export function windowStart(state: SeriesState, now: number, windowMs = CHART_WINDOW_MS): number {
  let first = Infinity;
  if (state.plans[0]) first = state.plans[0].t;
  for (const b of state.migrations.values()) first = Math.min(first, b.t);
  const zoomed = Number.isFinite(first) ? first - (now - first) * 0.1 : now - MIN_WINDOW_MS;
  return Math.max(now - windowMs, Math.min(zoomed, now - MIN_WINDOW_MS));
}

/** Step lines over the window: the last plan before the window starts it, and the line runs on to `now`. */
export function chartRows(state: SeriesState, now: number, windowMs = CHART_WINDOW_MS) {
  const start = windowStart(state, now, windowMs);
  const inWindow = state.plans.filter((p) => p.t >= start);
  const before = state.plans.filter((p) => p.t < start).at(-1);
  const points: PlanPoint[] = [...(before ? [{ ...before, t: start }] : []), ...inWindow];
  const last = points.at(-1);
  if (last && last.t < now) points.push({ ...last, t: now });
  const files: FilesRow[] = points.map((p) => ({ ...p.counts, t: p.t }));
  // The spread is drawn in the unit of the latest plan: points in another unit (before a strategy change) are gaps.
  const unit = [...state.plans].reverse().find((p) => p.delta !== null)?.unit ?? null;
  const delta: DeltaRow[] = points.map((p) => ({
    t: p.t,
    ...((p.unit ?? null) === unit ? { delta: p.delta, threshold: p.threshold } : { delta: null, threshold: null }),
  }));
  return {
    start,
    files,
    delta,
    unit,
    nodes: nodesOf(state.plans),
    buckets: migrationBuckets(state, now, now - start),
    ticks: timeTicks(start, now),
  };
}

const TICK_STEPS = [10_000, 15_000, 30_000, 60_000, 120_000, 300_000];

/** Round-time ticks, five at most, shared by the three charts. */
export function timeTicks(start: number, end: number): number[] {
  const step = TICK_STEPS.find((s) => (end - start) / s < 5) ?? TICK_STEPS.at(-1)!;
  const ticks: number[] = [];
  for (let t = Math.ceil(start / step) * step; t <= end; t += step) ticks.push(t);
  return ticks;
}

function nodesOf(plans: PlanPoint[]): string[] {
  const set = new Set<string>();
  for (const p of plans) for (const n of Object.keys(p.counts)) set.add(n);
  return [...set];
}

/** Moves per BUCKET_MS (automatic and manual), over the window, oldest first, empty buckets included. */
export function migrationBuckets(state: SeriesState, now: number, windowMs = CHART_WINDOW_MS, bucketMs = BUCKET_MS): BucketRow[] {
  const end = Math.floor(now / bucketMs) * bucketMs;
  const first = end - Math.ceil(windowMs / bucketMs - 1) * bucketMs;
  const rows: BucketRow[] = [];
  for (let t = first; t <= end; t += bucketMs) rows.push({ t, automatic: 0, manual: 0 });
  for (const b of state.migrations.values()) {
    if (b.t < first || b.t >= end + bucketMs) continue;
    const row = rows[Math.floor((b.t - first) / bucketMs)];
    if (row) row[b.kind] += b.count;
  }
  return rows;
}

// A tiny external store so every component that draws the series sees the same data.
let current = emptySeries();
const listeners = new Set<() => void>();

export const seriesStore = {
  // Arrow properties: useSyncExternalStore calls these two detached from the object.
  get: (): SeriesState => current,
  subscribe: (listener: () => void): (() => void) => {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
  update(fn: (s: SeriesState) => SeriesState): void {
    const next = fn(current);
    if (next === current) return;
    current = next;
    for (const l of listeners) l();
  },
};
