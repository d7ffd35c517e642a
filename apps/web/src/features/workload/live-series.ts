/**
 * The workload charts' data, built in the browser from the live streams: each plan from scheduler.onPlan
 * is a point of "files per node" and "delta vs threshold", each auto_migrate operation from logs.onOperation
 * a tick in its 10-second bucket. Kept at module level so the history survives moving between pages.
 */
export interface PlanPoint {
  t: number;
  counts: Record<string, number>;
  /** null for points rebuilt from the operations log, which records counts but not always the delta. */
  delta: number | null;
  threshold: number | null;
}

export interface SeriesState {
  plans: PlanPoint[];
  /** auto_migrate operation id → time (ms), deduplicated by id (seeded from the log, then live). */
  migrations: Map<number, number>;
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
  if (prev && prev.delta === p.delta && prev.threshold === p.threshold && sameCounts(prev.counts, p.counts)) return state;
  const newest = Math.max(p.t, state.plans.at(-1)?.t ?? p.t);
  const plans = [...state.plans.slice(0, i), p, ...state.plans.slice(i)].filter((x) => x.t >= newest - HISTORY_MS);
  return { ...state, plans };
}

export function addMigration(state: SeriesState, id: number, t: number): SeriesState {
  if (state.migrations.has(id)) return state;
  const migrations = new Map(state.migrations);
  migrations.set(id, t);
  for (const [k, at] of migrations) if (at < t - HISTORY_MS) migrations.delete(k);
  return { ...state, migrations };
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
  migrations: number;
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
  for (const t of state.migrations.values()) first = Math.min(first, t);
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
  const files: FilesRow[] = points.map((p) => ({ ...p.counts, t: p.t }) as FilesRow);
  const delta: DeltaRow[] = points.map((p) => ({ t: p.t, delta: p.delta, threshold: p.threshold }));
  return {
    start,
    files,
    delta,
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

/** Counts of auto_migrate operations per BUCKET_MS, over the window, oldest first, empty buckets included. */
export function migrationBuckets(state: SeriesState, now: number, windowMs = CHART_WINDOW_MS, bucketMs = BUCKET_MS): BucketRow[] {
  const end = Math.floor(now / bucketMs) * bucketMs;
  const first = end - Math.ceil(windowMs / bucketMs - 1) * bucketMs;
  const rows: BucketRow[] = [];
  for (let t = first; t <= end; t += bucketMs) rows.push({ t, migrations: 0 });
  for (const at of state.migrations.values()) {
    if (at < first || at >= end + bucketMs) continue;
    const row = rows[Math.floor((at - first) / bucketMs)];
    if (row) row.migrations++;
  }
  return rows;
}

// A tiny external store so every component that draws the series sees the same data.
let current = emptySeries();
const listeners = new Set<() => void>();

export const seriesStore = {
  get: (): SeriesState => current,
  subscribe(listener: () => void): () => void {
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
