/**
 * What the load monitor reports: one server's sample at one probe, the views and the history the charts and the
 * scaling policy read, and the per-minute rows kept in the database (with the store they go to).
 */
import type { LoadScore, LoadScoreConfig, ZkMode } from '@zkha/core';

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
