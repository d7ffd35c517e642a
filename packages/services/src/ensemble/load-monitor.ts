/**
 * Load of each ZooKeeper server over time, for the charts and the scaling policy.
 *
 * It probes nothing itself: the ClusterMonitor already asks every server `srvr` + `mntr` each probe
 * interval and announces the answers ('nodes' event); this turns each answer into a sample (request
 * rate from the delta of the packets-received counter, latencies, connections, znodes, watches, data
 * size, file descriptors) plus the host figures of the server's process or container, scores it, and
 * keeps the samples in a ring per node (the last `historyMinutes` at the probe interval). The
 * ensemble's score is kept in a ring of its own, which is what the scaling policy reads.
 */
import { EventEmitter } from 'node:events';

import {
  computeLoadScore,
  describeLoadFormula,
  ensembleLoadScore,
  DEFAULT_LOAD_SCORE_CONFIG,
  LOAD_COMPONENT_INFO,
  LOAD_COMPONENTS,
  type LoadScore,
  type LoadScoreConfig,
  type ScoreSample,
  type ZkMode,
  type ZkServerStats,
} from '@zkha/core';

import type { Clock } from '../shared/clock.ts';
import type { AppEvents } from '../shared/event-bus.ts';
import type { HostFigures, HostStatsSource } from './load-host.ts';

/** One server at one probe. Every figure is null when the server did not give it (down, or an older ZooKeeper). */
export interface NodeLoadSample {
  at: string;
  node: string;
  up: boolean;
  mode: ZkMode;
  /** Packets received per second since the previous probe (requests plus pings). */
  requestsPerSec: number | null;
  latencyAvgMs: number | null;
  latencyMaxMs: number | null;
  /** The larger of the read and update p99 (3.6+'s mntr summaries). */
  latencyP99Ms: number | null;
  outstandingRequests: number | null;
  connections: number | null;
  znodeCount: number | null;
  watchCount: number | null;
  approximateDataSizeBytes: number | null;
  openFileDescriptors: number | null;
  maxFileDescriptors: number | null;
  cpuPercent: number | null;
  rssBytes: number | null;
  /** Where CPU and memory came from: the JVM's /proc entries, the container's stats, or nowhere. */
  hostSource: 'process' | 'docker' | null;
  /** 0-100, see the formula; null when nothing is known. */
  score: number | null;
}

export interface EnsembleScorePoint {
  at: string;
  score: number | null;
  max: number | null;
  requestsPerSec: number | null;
}

export interface NodeLoadView {
  node: string;
  sample: NodeLoadSample | null;
  /** The score with its components (value, reference, normalised, weight) for the breakdown. */
  load: LoadScore;
}

export interface LoadConfigView {
  weights: LoadScoreConfig['weights'];
  references: LoadScoreConfig['references'];
  components: { key: string; label: string; unit: string; weight: number; reference: number }[];
  formula: string;
}

export interface EnsembleLoadView {
  at: string;
  intervalMs: number;
  historyMinutes: number;
  nodes: NodeLoadView[];
  ensemble: EnsembleScorePoint & { scored: number; connections: number | null; znodeCount: number | null };
  config: LoadConfigView;
}

export interface LoadHistory {
  /** `probe`: every probe, from memory; `minute`: per-minute averages from the database (longer spans). */
  resolution: 'probe' | 'minute';
  intervalMs: number;
  minutes: number;
  nodes: { node: string; samples: NodeLoadSample[] }[];
  ensemble: EnsembleScorePoint[];
}

/** One minute of one server (node '' for the ensemble), averaged: what is kept in the database. */
export interface LoadMinuteRow {
  at: string;
  node: string;
  samples: number;
  score: number | null;
  requestsPerSec: number | null;
  latencyAvgMs: number | null;
  latencyMaxMs: number | null;
  latencyP99Ms: number | null;
  cpuPercent: number | null;
  rssBytes: number | null;
  connections: number | null;
  znodeCount: number | null;
  outstandingRequests: number | null;
}

/** Where minute rows go and come back from (the database); absent in tests that need no long history. */
export interface LoadMinuteStore {
  write(rows: readonly LoadMinuteRow[]): void;
  read(opts: { since: string; node?: string }): LoadMinuteRow[];
  prune(before: string): void;
}

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

export interface LoadMonitorOptions {
  score?: LoadScoreConfig;
  /** How much history to keep per node. Default 60 minutes. */
  historyMinutes?: number;
  /** The probe interval (sets the ring sizes). */
  intervalMs: number;
  /** Host figures are read at most this often (docker stats take ~1 s per container). Default: every probe for processes, 5 s for docker. */
  hostIntervalMs?: number;
}

/** A fixed-size ring buffer: O(1) push, oldest dropped. */
export class Ring<T> {
  private readonly items: (T | undefined)[];
  private start = 0;
  private count = 0;
  constructor(readonly capacity: number) {
    this.items = new Array<T | undefined>(Math.max(1, capacity));
  }
  push(item: T): void {
    const cap = this.items.length;
    if (this.count < cap) {
      this.items[(this.start + this.count) % cap] = item;
      this.count++;
    } else {
      this.items[this.start] = item;
      this.start = (this.start + 1) % cap;
    }
  }
  get length(): number {
    return this.count;
  }
  last(): T | undefined {
    return this.count ? this.items[(this.start + this.count - 1) % this.items.length] : undefined;
  }
  /** Oldest first. */
  toArray(): T[] {
    const out: T[] = [];
    for (let i = 0; i < this.count; i++) out.push(this.items[(this.start + i) % this.items.length] as T);
    return out;
  }
}

export interface LoadMonitorEvents {
  load: [EnsembleLoadView];
}

const round = (x: number, digits = 1): number => Math.round(x * 10 ** digits) / 10 ** digits;

export class LoadMonitor extends EventEmitter<LoadMonitorEvents> {
  private readonly rings = new Map<string, Ring<NodeLoadSample>>();
  private readonly ensembleRing: Ring<EnsembleScorePoint>;
  private readonly counters = new Map<string, { received: number; at: number }>();
  private host = new Map<string, HostFigures>();
  private hostAt = 0;
  private hostBusy = false;
  private latest: EnsembleLoadView | null = null;
  private readonly capacity: number;
  readonly config: LoadScoreConfig;
  readonly historyMinutes: number;
  private readonly onNodes = (stats: ZkServerStats[]) => this.ingest(stats);
  private minute: { start: number; nodes: Map<string, MinuteAcc>; ensemble: MinuteAcc } | null = null;
  private prunedAt = 0;

  constructor(
    private readonly deps: {
      events: AppEvents;
      clock: Clock;
      host: HostStatsSource | null;
      nodes: () => readonly string[];
      store?: LoadMinuteStore | null;
    },
    private readonly opts: LoadMonitorOptions,
  ) {
    super();
    this.setMaxListeners(0);
    this.config = opts.score ?? DEFAULT_LOAD_SCORE_CONFIG;
    this.historyMinutes = opts.historyMinutes ?? 60;
    this.capacity = Math.max(10, Math.ceil((this.historyMinutes * 60_000) / Math.max(100, opts.intervalMs)));
    this.ensembleRing = new Ring(this.capacity);
  }

  start(): void {
    this.deps.events.on('nodes', this.onNodes);
  }

  stop(): void {
    this.deps.events.off('nodes', this.onNodes);
    this.flushMinute();
  }

  get hostKind(): 'process' | 'docker' | null {
    return this.deps.host?.kind ?? null;
  }

  configView(): LoadConfigView {
    return {
      weights: { ...this.config.weights },
      references: { ...this.config.references },
      components: LOAD_COMPONENTS.map((k) => ({
        key: k,
        ...LOAD_COMPONENT_INFO[k],
        weight: this.config.weights[k],
        reference: this.config.references[k],
      })),
      formula: describeLoadFormula(this.config),
    };
  }

  /** The latest view; before the first probe, one with no samples. */
  view(): EnsembleLoadView {
    return this.latest ?? this.buildView(this.deps.clock.now().toISOString(), []);
  }

  /**
   * Samples for the charts: every probe from memory for spans it holds (the last `historyMinutes`),
   * per-minute averages from the database beyond that (when a store is configured).
   */
  history(opts: { minutes?: number; node?: string } = {}): LoadHistory {
    const asked = opts.minutes ?? this.historyMinutes;
    if (asked > this.historyMinutes && this.deps.store) return this.minuteHistory(asked, opts.node);
    const minutes = Math.min(asked, this.historyMinutes);
    const since = this.deps.clock.now().getTime() - minutes * 60_000;
    const keep = <T extends { at: string }>(xs: T[]) => xs.filter((x) => Date.parse(x.at) >= since);
    const names = opts.node ? [opts.node] : [...new Set([...this.deps.nodes(), ...this.rings.keys()])];
    return {
      resolution: 'probe',
      intervalMs: this.opts.intervalMs,
      minutes,
      nodes: names.map((node) => ({ node, samples: keep(this.rings.get(node)?.toArray() ?? []) })),
      ensemble: keep(this.ensembleRing.toArray()),
    };
  }

  private minuteHistory(minutes: number, node: string | undefined): LoadHistory {
    const store = this.deps.store!;
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
  private accumulate(
    now: number,
    samples: readonly NodeLoadSample[],
    ensemble: EnsembleScorePoint & { connections: number | null; znodeCount: number | null },
  ): void {
    if (!this.deps.store) return;
    const start = now - (now % 60_000);
    if (this.minute && this.minute.start !== start) this.flushMinute();
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

  private flushMinute(): void {
    const m = this.minute;
    const store = this.deps.store;
    this.minute = null;
    if (!m || !store) return;
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

  /** The ensemble's score history in the policy's shape (epoch ms). */
  scoreHistory(): ScoreSample[] {
    return this.ensembleRing.toArray().map((p) => ({ at: Date.parse(p.at), score: p.score }));
  }

  /** Drops the history of servers that left the ensemble (their rings would otherwise stay in the charts). */
  forget(node: string): void {
    this.rings.delete(node);
    this.counters.delete(node);
    this.host.delete(node);
  }

  /** Turns one probe of every server into samples. Public for tests that feed it probes. */
  ingest(stats: readonly ZkServerStats[]): EnsembleLoadView {
    const now = this.deps.clock.now();
    this.refreshHost(now.getTime());
    const samples = stats.map((s) => this.sampleOf(s, now));
    for (const sample of samples) {
      let ring = this.rings.get(sample.node);
      if (!ring) {
        ring = new Ring(this.capacity);
        this.rings.set(sample.node, ring);
      }
      ring.push(sample);
    }
    const view = this.buildView(now.toISOString(), samples);
    this.ensembleRing.push({
      at: view.at,
      score: view.ensemble.score,
      max: view.ensemble.max,
      requestsPerSec: view.ensemble.requestsPerSec,
    });
    this.accumulate(now.getTime(), samples, view.ensemble);
    this.latest = view;
    this.emit('load', view);
    return view;
  }

  private sampleOf(s: ZkServerStats, now: Date): NodeLoadSample {
    const m = s.metrics ?? null;
    const at = now.getTime();
    let requestsPerSec: number | null = null;
    const received = m?.packetsReceived ?? null;
    if (s.up && received !== null) {
      const prev = this.counters.get(s.node);
      // A smaller counter means the server restarted (or `srst`): no rate for this interval.
      if (prev && received >= prev.received && at > prev.at) requestsPerSec = round(((received - prev.received) * 1000) / (at - prev.at));
      this.counters.set(s.node, { received, at });
    } else {
      this.counters.delete(s.node);
    }
    const host = s.reachable ? (this.host.get(s.node) ?? null) : null;
    const p99s = [m?.latencyP99Read ?? null, m?.latencyP99Update ?? null].filter((v): v is number => v !== null);
    const sample: NodeLoadSample = {
      at: now.toISOString(),
      node: s.node,
      up: s.up,
      mode: s.mode,
      requestsPerSec,
      latencyAvgMs: s.up ? s.latencyAvg : null,
      latencyMaxMs: s.up ? s.latencyMax : null,
      latencyP99Ms: s.up && p99s.length ? Math.max(...p99s) : null,
      outstandingRequests: s.outstandingRequests,
      connections: s.connections,
      znodeCount: s.znodeCount,
      watchCount: s.watchCount,
      approximateDataSizeBytes: m?.approximateDataSize ?? null,
      openFileDescriptors: m?.openFileDescriptors ?? null,
      maxFileDescriptors: m?.maxFileDescriptors ?? null,
      cpuPercent: host?.cpuPercent ?? null,
      rssBytes: host?.rssBytes ?? null,
      hostSource: host?.source ?? null,
      score: null,
    };
    sample.score = this.scoreOf(sample).score;
    return sample;
  }

  private scoreOf(sample: NodeLoadSample | null): LoadScore {
    return computeLoadScore(
      {
        requests: sample?.requestsPerSec ?? null,
        latency: sample?.latencyAvgMs ?? null,
        cpu: sample?.cpuPercent ?? null,
        memory: sample?.rssBytes ?? null,
        disk: sample?.approximateDataSizeBytes ?? null,
      },
      this.config,
    );
  }

  private buildView(at: string, samples: readonly NodeLoadSample[]): EnsembleLoadView {
    const byNode = new Map(samples.map((s) => [s.node, s]));
    const names = [...new Set([...this.deps.nodes(), ...samples.map((s) => s.node)])];
    const nodes = names.map((node) => {
      const sample = byNode.get(node) ?? null;
      return { node, sample, load: this.scoreOf(sample) };
    });
    const agg = ensembleLoadScore(nodes.map((n) => (n.sample?.up ? n.load.score : null)));
    const sum = (f: (s: NodeLoadSample) => number | null): number | null => {
      const vs = samples.map(f).filter((v): v is number => v !== null);
      return vs.length ? round(vs.reduce((a, b) => a + b, 0)) : null;
    };
    const znodes = samples.map((s) => s.znodeCount).filter((v): v is number => v !== null);
    return {
      at,
      intervalMs: this.opts.intervalMs,
      historyMinutes: this.historyMinutes,
      nodes,
      ensemble: {
        at,
        score: agg.score,
        max: agg.max,
        scored: agg.scored,
        requestsPerSec: sum((s) => s.requestsPerSec),
        connections: sum((s) => s.connections),
        // Every server holds the whole tree: the ensemble's znode count is any server's, the largest.
        znodeCount: znodes.length ? Math.max(...znodes) : null,
      },
      config: this.configView(),
    };
  }

  /** Host figures are read in the background so a slow engine never delays a probe's samples. */
  private refreshHost(now: number): void {
    const source = this.deps.host;
    if (!source || this.hostBusy) return;
    const every = this.opts.hostIntervalMs ?? (source.kind === 'docker' ? 5_000 : 0);
    if (now - this.hostAt < every) return;
    this.hostBusy = true;
    this.hostAt = now;
    void source
      .sample(this.deps.nodes())
      .then((m) => {
        this.host = m;
      })
      .catch(() => undefined)
      .finally(() => {
        this.hostBusy = false;
      });
  }
}
