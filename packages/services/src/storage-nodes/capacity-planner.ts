import {
  MIN_TREND_SPAN_MS,
  recommendCapacity,
  type CapacityNode,
  type CapacityRecommendation,
  type NodeCapacity,
  type NodeCapacitySource,
} from '@zkha/core';
import {
  insertCapacityRecommendation,
  insertCapacitySample,
  listCapacityRecommendations,
  listCapacitySamples,
  pruneCapacitySamples,
  type CapacityRecommendationRecord,
  type CapacitySampleRecord,
  type Db,
} from '@zkha/db';

import type { Clock } from '../shared/clock.ts';
import type { FileIndex } from '../files/file-index.ts';
import type { OperationsService } from '../logs/operations.ts';

export interface CapacityConfig {
  /** How often usage is sampled (and a recommendation made); default one minute. */
  sampleIntervalMs: number;
  /** Default 0.7. */
  targetUtilization: number;
  /** Default 0.1: act above target × 1.1 or below target × 0.9. */
  band: number;
  /** The trend is fitted over this much history; default 7 days. */
  trendWindowMs: number;
  /** Samples older than this are dropped; default 30 days. */
  retentionMs: number;
  /** Less history than this has no trend and never advises removing nodes; default one hour (MIN_TREND_SPAN_MS). */
  minHistoryMs: number;
}

export const DEFAULT_CAPACITY_CONFIG: CapacityConfig = {
  sampleIntervalMs: 60_000,
  targetUtilization: 0.7,
  band: 0.1,
  trendWindowMs: 7 * 24 * 3600_000,
  retentionMs: 30 * 24 * 3600_000,
  minHistoryMs: MIN_TREND_SPAN_MS,
};

export interface CapacityView extends CapacityRecommendation {
  at: string;
  targetUtilization: number;
  band: number;
  usedBytes: number;
  capacityBytes: number;
  nodes: (CapacityNode & { source: NodeCapacitySource })[];
  /** Samples the trend was fitted over. */
  samples: number;
}

/**
 * The capacity planner over time: samples cluster usage on an interval into the database, and from the
 * samples' trend and the current per-node usage asks the pure planner (core's recommendCapacity) whether to
 * scale up, down or do nothing. Each sampling round's recommendation is kept when it differs from the last
 * one kept (or an hour has passed), so the history shows when and why the advice changed.
 */
export class CapacityService {
  private timer: NodeJS.Timeout | null = null;
  private readonly config: CapacityConfig;

  constructor(
    private readonly deps: {
      db: Db;
      index: FileIndex;
      operations: OperationsService;
      clock: Clock;
      /** Nodes that hold or take data now (active and leaving). */
      nodes: () => readonly string[];
      /** Each node's capacity (NodeCapacities). */
      capacityOf: (node: string) => NodeCapacity;
      /** The size of a node to add or remove (the configured default); null: the median of the current nodes. */
      nodeSizeBytes: number | null;
    },
    config: Partial<CapacityConfig> = {},
  ) {
    this.config = { ...DEFAULT_CAPACITY_CONFIG, ...config };
  }

  private capacityNodes(): CapacityView['nodes'] {
    return this.deps.nodes().map((node) => {
      const { capacityBytes, source } = this.deps.capacityOf(node);
      return { node, capacityBytes: capacityBytes ?? 0, usedBytes: this.deps.index.usage(node).bytes, source };
    });
  }

  /** Records the cluster's usage now. */
  sample(): CapacitySampleRecord {
    const nodes = this.capacityNodes();
    return insertCapacitySample(this.deps.db, {
      at: this.deps.clock.now().toISOString(),
      usedBytes: nodes.reduce((a, n) => a + n.usedBytes, 0),
      capacityBytes: nodes.reduce((a, n) => a + n.capacityBytes, 0),
      fileCount: this.deps.index.size,
      nodeCount: nodes.length,
    });
  }

  /** The recommendation now, from the current usage and the recorded trend. */
  recommendation(): CapacityView {
    const now = this.deps.clock.now();
    const nodes = this.capacityNodes();
    const history = listCapacitySamples(this.deps.db, {
      since: new Date(now.getTime() - this.config.trendWindowMs).toISOString(),
      limit: 10_000,
    });
    const rec = recommendCapacity({
      nodes,
      history: history.map((s) => ({ at: Date.parse(s.at), usedBytes: s.usedBytes })),
      targetUtilization: this.config.targetUtilization,
      band: this.config.band,
      now: now.getTime(),
      minHistoryMs: this.config.minHistoryMs,
      ...(this.deps.nodeSizeBytes !== null ? { nodeCapacityBytes: this.deps.nodeSizeBytes } : {}),
    });
    const counted = nodes.filter((n) => n.capacityBytes > 0);
    return {
      ...rec,
      at: now.toISOString(),
      targetUtilization: this.config.targetUtilization,
      band: this.config.band,
      usedBytes: counted.reduce((a, n) => a + n.usedBytes, 0),
      capacityBytes: counted.reduce((a, n) => a + n.capacityBytes, 0),
      nodes,
      samples: history.length,
    };
  }

  /** One sampling round: sample, recommend, keep the recommendation if it changed, prune old samples. */
  tick(): { sample: CapacitySampleRecord; recommendation: CapacityView; recorded: boolean } {
    const sample = this.sample();
    const view = this.recommendation();
    const last = listCapacityRecommendations(this.deps.db, { limit: 1 })[0];
    const changed =
      !last ||
      last.action !== view.action ||
      last.nodesToAdd !== view.nodesToAdd ||
      last.nodesToRemove !== view.nodesToRemove ||
      last.trend !== view.trend ||
      Date.parse(view.at) - Date.parse(last.at) >= 3600_000;
    if (changed) {
      insertCapacityRecommendation(this.deps.db, {
        at: view.at,
        action: view.action,
        nodesToAdd: view.nodesToAdd,
        nodesToRemove: view.nodesToRemove,
        trend: view.trend,
        utilization: Math.round(view.utilization * 1e6),
        details: {
          reason: view.reason,
          usedBytes: view.usedBytes,
          capacityBytes: view.capacityBytes,
          growthBytesPerDay: view.growthBytesPerDay,
          timeToTargetMs: view.timeToTargetMs,
          utilizationAfter: view.utilizationAfter,
          targetUtilization: view.targetUtilization,
          samples: view.samples,
          historySpanMs: view.historySpanMs,
        },
      });
      if (last && last.action !== view.action) {
        this.deps.operations.record({
          action: 'capacity_recommendation',
          status: 'success',
          details: { from: last.action, to: view.action, reason: view.reason },
        });
      }
    }
    pruneCapacitySamples(this.deps.db, new Date(Date.parse(view.at) - this.config.retentionMs).toISOString());
    return { sample, recommendation: view, recorded: changed };
  }

  history(limit = 50): (Omit<CapacityRecommendationRecord, 'utilization'> & { utilization: number })[] {
    return listCapacityRecommendations(this.deps.db, { limit }).map((r) => ({ ...r, utilization: r.utilization / 1e6 }));
  }

  samples(opts: { since?: string; limit?: number } = {}): CapacitySampleRecord[] {
    return listCapacitySamples(this.deps.db, opts);
  }

  getConfig(): CapacityConfig {
    return { ...this.config };
  }

  start(): void {
    this.stop();
    const round = () => {
      try {
        this.tick();
      } catch {
        // Retried next round; a sample missed is a gap in the trend, not an error.
      }
    };
    round();
    this.timer = setInterval(round, this.config.sampleIntervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
