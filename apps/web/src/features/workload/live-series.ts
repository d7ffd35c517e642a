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

/** Step lines over the window: the last plan before the window starts it, and the line runs on to `now`. */
export function chartRows(state: SeriesState, now: number, windowMs = CHART_WINDOW_MS) {
  const start = now - windowMs;
  const inWindow = state.plans.filter((p) => p.t >= start);
  const before = state.plans.filter((p) => p.t < start).at(-1);
  const points: PlanPoint[] = [...(before ? [{ ...before, t: start }] : []), ...inWindow];
  const last = points.at(-1);
  if (last && last.t < now) points.push({ ...last, t: now });
  const files: FilesRow[] = points.map((p) => ({ ...p.counts, t: p.t }) as FilesRow);
  const delta: DeltaRow[] = points.map((p) => ({ t: p.t, delta: p.delta, threshold: p.threshold }));
  return { files, delta, nodes: nodesOf(state.plans), buckets: migrationBuckets(state, now, windowMs), ticks: minuteTicks(start, now) };
}

/** One tick per whole minute inside the window, so the three charts share the same time axis. */
export function minuteTicks(start: number, end: number): number[] {
  const ticks: number[] = [];
  for (let t = Math.ceil(start / 60_000) * 60_000; t <= end; t += 60_000) ticks.push(t);
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
