/**
 * The load history beyond the in-memory rings: each probe is added to its minute, and a minute's averages per server
 * (and for the ensemble, node '') are written to the store once the next minute starts, or at stop. Rows older than a
 * week are pruned now and then. The charts read them back for spans longer than the rings hold.
 */
import type { Clock } from '../shared/clock.ts';
import type { EnsembleScorePoint, LoadHistory, LoadMinuteRow, LoadMinuteStore, NodeLoadSample } from './load-reports.ts';

const AVERAGED = [
  'score',
  'requestsPerSec',
  'latencyAvgMs',
  'latencyP99Ms',
  'cpuPercent',
  'rssBytes',
  'connections',
  'outstandingRequests',
] as const;

/** Running sums of one minute: averages of the gauges, the largest max latency, the last znode count. */
class MinuteAcc {
  samples = 0;
  private readonly sums = new Map<string, { sum: number; n: number }>();
  private latencyMax: number | null = null;
  private znodes: number | null = null;
  add(v: Partial<Record<(typeof AVERAGED)[number], number | null>> & { latencyMaxMs?: number | null; znodeCount?: number | null }): void {
    this.samples++;
    for (const k of AVERAGED) {
      const x = v[k];
      if (x === null || x === undefined) continue;
      const acc = this.sums.get(k) ?? { sum: 0, n: 0 };
      acc.sum += x;
      acc.n++;
      this.sums.set(k, acc);
    }
    if (v.latencyMaxMs != null) this.latencyMax = Math.max(this.latencyMax ?? 0, v.latencyMaxMs);
    if (v.znodeCount != null) this.znodes = v.znodeCount;
  }
  row(at: string, node: string): LoadMinuteRow {
    const avg = (k: (typeof AVERAGED)[number]) => {
      const a = this.sums.get(k);
      return a && a.n ? round(a.sum / a.n, 2) : null;
    };
    const rss = avg('rssBytes');
    return {
      at,
      node,
      samples: this.samples,
      score: avg('score'),
      requestsPerSec: avg('requestsPerSec'),
      latencyAvgMs: avg('latencyAvgMs'),
      latencyMaxMs: this.latencyMax,
      latencyP99Ms: avg('latencyP99Ms'),
      cpuPercent: avg('cpuPercent'),
      rssBytes: rss === null ? null : Math.round(rss),
      connections: avg('connections'),
      znodeCount: this.znodes,
      outstandingRequests: avg('outstandingRequests'),
    };
  }
}

/** How long minute rows are kept. */
const MINUTE_RETENTION_MS = 7 * 86_400_000;

const round = (x: number, digits = 1): number => Math.round(x * 10 ** digits) / 10 ** digits;

/** The minute being summed and the minute rows in the store (see LoadMonitor, which feeds it every probe). */
export class LoadMinutes {
  private minute: { start: number; nodes: Map<string, MinuteAcc>; ensemble: MinuteAcc } | null = null;
  private prunedAt = 0;

  constructor(private readonly deps: { clock: Clock; nodes: () => readonly string[]; store: LoadMinuteStore }) {}

  /** Per-minute averages from the store, over the last `minutes` (one server's, or every server's and the ensemble's). */
  history(minutes: number, node: string | undefined): LoadHistory {
    const store = this.deps.store;
    const since = new Date(this.deps.clock.now().getTime() - minutes * 60_000).toISOString();
    const rows = store.read({ since, ...(node ? { node } : {}) });
    const ensemble = node ? [] : store.read({ since, node: '' });
    const names = node ? [node] : [...new Set([...this.deps.nodes(), ...rows.filter((r) => r.node !== '').map((r) => r.node)])];
    const toSample = (r: LoadMinuteRow): NodeLoadSample => ({
      at: r.at,
      node: r.node,
      up: r.score !== null,
      mode: 'unknown',
      requestsPerSec: r.requestsPerSec,
      latencyAvgMs: r.latencyAvgMs,
      latencyMaxMs: r.latencyMaxMs,
      latencyP99Ms: r.latencyP99Ms,
      outstandingRequests: r.outstandingRequests,
      connections: r.connections,
      znodeCount: r.znodeCount,
      watchCount: null,
      approximateDataSizeBytes: null,
      openFileDescriptors: null,
      maxFileDescriptors: null,
      cpuPercent: r.cpuPercent,
      rssBytes: r.rssBytes,
      hostSource: null,
      score: r.score,
    });
    return {
      resolution: 'minute',
      intervalMs: 60_000,
      minutes,
      nodes: names.map((n) => ({ node: n, samples: rows.filter((r) => r.node === n).map(toSample) })),
      ensemble: ensemble.map((r) => ({ at: r.at, score: r.score, max: null, requestsPerSec: r.requestsPerSec })),
    };
  }

  /** Adds a probe to the current minute, writing the previous minute's rows when a new one starts. */
  add(
    now: number,
    samples: readonly NodeLoadSample[],
    ensemble: EnsembleScorePoint & { connections: number | null; znodeCount: number | null },
  ): void {
    const start = now - (now % 60_000);
    if (this.minute && this.minute.start !== start) this.flush();
    this.minute ??= { start, nodes: new Map(), ensemble: new MinuteAcc() };
    for (const s of samples) {
      let acc = this.minute.nodes.get(s.node);
      if (!acc) {
        acc = new MinuteAcc();
        this.minute.nodes.set(s.node, acc);
      }
      acc.add(s);
    }
    this.minute.ensemble.add({
      score: ensemble.score,
      requestsPerSec: ensemble.requestsPerSec,
      connections: ensemble.connections,
      znodeCount: ensemble.znodeCount,
    });
  }

  /** Writes the current minute's rows (at a new minute, and at stop). */
  flush(): void {
    const m = this.minute;
    const store = this.deps.store;
    this.minute = null;
    if (!m) return;
    const at = new Date(m.start).toISOString();
    try {
      store.write([...[...m.nodes].map(([node, acc]) => acc.row(at, node)), m.ensemble.row(at, '')]);
      if (m.start - this.prunedAt > 3_600_000) {
        this.prunedAt = m.start;
        store.prune(new Date(m.start - MINUTE_RETENTION_MS).toISOString());
      }
    } catch {
      // A database that cannot take the rows (closing, disk full) costs the long history, never the probe.
    }
  }
}
