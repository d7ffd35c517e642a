/**
 * The load charts' data. ensemble.loadHistory gives the last minutes per node; each ensemble.onLoad event
 * adds one sample per node (all samples of one probe share its timestamp). The history lives in the
 * React Query cache and the stream appends to it, so leaving the page and coming back redraws at once.
 *
 * Generic over the sample type so the API's own inferred types flow through unchanged.
 */

export interface Timed {
  /** ISO time of the probe. */
  at: string;
}

export interface NodeSeries<S extends Timed> {
  node: string;
  samples: S[];
}

export interface HistoryShape<S extends Timed, E extends Timed> {
  minutes: number;
  nodes: NodeSeries<S>[];
  ensemble: E[];
}

/**
 * Appends one probe's samples (and the ensemble point) to a history, oldest first, dropping what falls out of
 * the history's window and anything not newer than the last sample kept (a reconnecting stream may repeat
 * one). Nodes seen for the first time get a series of their own (a server just added).
 */
export function appendProbe<H extends HistoryShape<Timed & { node: string }, Timed>>(
  history: H,
  samples: readonly H['nodes'][number]['samples'][number][],
  point: H['ensemble'][number] | null,
): H {
  const at = Date.parse(samples[0]?.at ?? point?.at ?? '');
  if (Number.isNaN(at)) return history;
  const since = at - history.minutes * 60_000;
  const keep = <T extends Timed>(xs: readonly T[]) => {
    let i = 0;
    while (i < xs.length && Date.parse(xs[i]!.at) < since) i++;
    return xs.slice(i);
  };
  const newer = <T extends Timed>(xs: readonly T[], x: T) => {
    const last = xs.at(-1);
    return !last || Date.parse(last.at) < Date.parse(x.at);
  };
  const byNode = new Map(samples.map((s) => [s.node, s]));
  const nodes: H['nodes'] = history.nodes.map((n) => {
    const s = byNode.get(n.node);
    byNode.delete(n.node);
    return { node: n.node, samples: keep(s && newer(n.samples, s) ? [...n.samples, s] : n.samples) };
  });
  for (const s of byNode.values()) nodes.push({ node: s.node, samples: [s] });
  const ensemble = keep(point && newer(history.ensemble, point) ? [...history.ensemble, point] : history.ensemble);
  return { ...history, nodes, ensemble };
}

export type ChartRow = { t: number } & Record<string, number | null>;

/** At most this many points per line: an hour at a 500 ms probe is 7,200 samples, far more than a chart shows. */
export const MAX_POINTS = 240;

/** The bucket width that keeps `windowMs` under MAX_POINTS points, never finer than the probe interval. */
export function bucketFor(windowMs: number, intervalMs: number): number {
  return Math.max(intervalMs, Math.ceil(windowMs / MAX_POINTS / 1000) * 1000);
}

/**
 * One row per time bucket with a column per node: the mean of that node's known values in the bucket, null
 * where it had none (a down server leaves a gap instead of a drop to zero). Rows are oldest first.
 */
export function pivot<S extends Timed>(
  series: readonly NodeSeries<S>[],
  value: (s: S) => number | null,
  opts: { since: number; bucketMs: number },
): ChartRow[] {
  const acc = new Map<number, Map<string, { sum: number; n: number }>>();
  for (const { node, samples } of series) {
    for (const s of samples) {
      const t = Date.parse(s.at);
      if (Number.isNaN(t) || t < opts.since) continue;
      const bucket = Math.floor(t / opts.bucketMs) * opts.bucketMs;
      let row = acc.get(bucket);
      if (!row) acc.set(bucket, (row = new Map<string, { sum: number; n: number }>()));
      const v = value(s);
      const cell = row.get(node) ?? { sum: 0, n: 0 };
      if (v !== null && Number.isFinite(v)) {
        cell.sum += v;
        cell.n++;
      }
      row.set(node, cell);
    }
  }
  const nodes = series.map((s) => s.node);
  return [...acc.keys()]
    .sort((a, b) => a - b)
    .map((t) => {
      const row: ChartRow = { t };
      const cells = acc.get(t)!;
      for (const node of nodes) {
        const c = cells.get(node);
        row[node] = c && c.n > 0 ? Math.round((c.sum / c.n) * 100) / 100 : null;
      }
      return row;
    });
}

/** The last known value of each node, for the caption under a chart ("Now: zk1 12 · zk2 9"). */
export function latestValues<S extends Timed>(
  series: readonly NodeSeries<S>[],
  value: (s: S) => number | null,
): { node: string; value: number | null }[] {
  return series.map(({ node, samples }) => {
    const last = samples.at(-1);
    return { node, value: last ? value(last) : null };
  });
}

/** The shortest time axis drawn: a page opened seconds after the server started zooms in on this much. */
export const MIN_WINDOW_MS = 60_000;

/**
 * Where the time axis starts: `windowMs` before `end` at most, but no earlier than shortly before the first
 * sample, so a young history fills the chart instead of hugging its right edge.
 */
export function chartStart(first: number | null, end: number, windowMs: number): number {
  if (first === null || !Number.isFinite(first)) return end - Math.min(windowMs, MIN_WINDOW_MS);
  const zoomed = first - (end - first) * 0.05;
  return Math.max(end - windowMs, Math.min(zoomed, end - MIN_WINDOW_MS));
}
