/**
 * Load of each ZooKeeper server over time, for the charts and the scaling policy.
 *
 * It probes nothing itself: the ClusterMonitor already asks every server `srvr` + `mntr` each probe
 * interval and announces the answers ('nodes' event); this turns each answer into a sample (request
 * rate from the delta of the packets-received counter, latencies, connections, znodes, watches, data
 * size, file descriptors) plus the host figures of the server's process or container, scores it, and
 * keeps the samples in a ring per node (the last `historyMinutes` at the probe interval). The
 * ensemble's score is kept in a ring of its own, which is what the scaling policy reads. Longer spans
 * come from per-minute averages in the database (LoadMinutes).
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
  type ZkServerStats,
} from '@zkha/core';

import type { Clock } from '../shared/clock.ts';
import type { AppEvents } from '../shared/event-bus.ts';
import type { HostFigures, HostStatsSource } from './load-host.ts';
import { LoadMinutes } from './load-minutes.ts';
import type { EnsembleLoadView, EnsembleScorePoint, LoadConfigView, LoadHistory, LoadMinuteStore, NodeLoadSample } from './load-reports.ts';

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
  /** The per-minute history in the database; null without a store. */
  private readonly minutes: LoadMinutes | null;

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
    this.minutes = deps.store ? new LoadMinutes({ clock: deps.clock, nodes: () => deps.nodes(), store: deps.store }) : null;
  }

  start(): void {
    this.deps.events.on('nodes', this.onNodes);
  }

  stop(): void {
    this.deps.events.off('nodes', this.onNodes);
    this.minutes?.flush();
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
    if (asked > this.historyMinutes && this.minutes) return this.minutes.history(asked, opts.node);
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
    this.minutes?.add(now.getTime(), samples, view.ensemble);
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
