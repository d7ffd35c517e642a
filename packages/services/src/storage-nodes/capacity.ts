import {
  checkNodeRoom,
  MIN_TREND_SPAN_MS,
  nodeCapacity,
  ownFilesystemNodes,
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

/** The configured capacities (STORAGE_NODE_CAPACITY and STORAGE_NODE_CAPACITIES). */
export interface StorageCapacitySettings {
  /** Every node's capacity unless overridden below or registered with the node; null: none configured. */
  defaultBytes: number | null;
  /** Per-node overrides by node name. */
  perNode: Readonly<Record<string, number>>;
}

/** What a node's storage agent says of its folder's filesystem (statfs); null figures when it could not tell. */
export interface FilesystemReport {
  node: string;
  /** The filesystem's size. */
  filesystemBytes: number | null;
  /** The filesystem's identity when the agent reports one (see ownFilesystemNodes). */
  filesystemId?: string | null;
  freeBytes: number | null;
}

export interface NodeCapacityView extends NodeCapacity {
  node: string;
  usedBytes: number;
  /** Puts being written and moves not yet committed into the node. */
  incomingBytes: number;
  /** The configured capacity before its own filesystem's bound (registered, else configured). */
  statedBytes: number | null;
  /** True when its folder is a filesystem of its own: its free space then bounds its capacity too. */
  ownFilesystem: boolean;
}

/** Room held on a node for bytes on their way in, until they are in the file index or abandoned. */
export interface RoomReservation {
  readonly node: string;
  readonly bytes: number;
  /** Holds `bytes` more (a streamed upload's next chunk); NODE_FULL past the node's capacity. */
  grow(bytes: number): void;
  /** Gives the room back; idempotent. */
  release(): void;
}

/**
 * Each storage node's capacity, one definition for every caller (placement, uploads, the migration engine, the
 * planners, the lifecycle view): registered with the node, else configured (per node, else the default), and
 * at most used + free when the node's folder is its own filesystem (see ownFilesystemNodes). Puts and moves
 * reserve their bytes here before writing, so two of them cannot both take the last room.
 */
export class NodeCapacities {
  private readonly incoming = new Map<string, number>();

  constructor(
    private readonly deps: {
      /** Capacity registered with a node added at run time; null when none. */
      registered: (node: string) => number | null;
      /** Bytes of the node's files now (the file index). */
      usedBytes: (node: string) => number;
      /** The agents' latest statfs figures, one per node that reports them. */
      filesystems: () => readonly FilesystemReport[];
    },
    private readonly settings: StorageCapacitySettings = { defaultBytes: null, perNode: {} },
  ) {}

  /** The configured capacity of a node (its override, else the default); null when none is configured. */
  configuredOf(node: string): number | null {
    return this.settings.perNode[node] ?? this.settings.defaultBytes;
  }

  /** The size of a node added without one: the configured default. */
  get defaultBytes(): number | null {
    return this.settings.defaultBytes;
  }

  of(node: string): NodeCapacityView {
    const reports = this.deps.filesystems();
    const own = ownFilesystemNodes(reports).has(node);
    const free = own ? (reports.find((r) => r.node === node)?.freeBytes ?? null) : null;
    const usedBytes = this.deps.usedBytes(node);
    const registered = this.deps.registered(node);
    const configured = this.configuredOf(node);
    return {
      node,
      usedBytes,
      incomingBytes: this.incoming.get(node) ?? 0,
      statedBytes: registered ?? configured,
      ownFilesystem: own,
      ...nodeCapacity({ registeredBytes: registered, configuredBytes: configured, usedBytes, ownFilesystemFreeBytes: free }),
    };
  }

  capacityOf(node: string): number | null {
    return this.of(node).capacityBytes;
  }

  /** NODE_FULL unless `bytes` more (for `files` files) fit on the node now, counting what is already arriving. */
  assertRoom(node: string, bytes: number, files = 1): void {
    const v = this.of(node);
    const err = checkNodeRoom({ node, capacityBytes: v.capacityBytes, usedBytes: v.usedBytes, incomingBytes: v.incomingBytes, needBytes: bytes, files });
    if (err) throw err;
  }

  /** Whether `bytes` more fit on the node now. */
  hasRoom(node: string, bytes: number): boolean {
    const v = this.of(node);
    return v.capacityBytes === null || v.usedBytes + v.incomingBytes + bytes <= v.capacityBytes;
  }

  /**
   * Holds room for `bytes` on the node (NODE_FULL when they do not fit). Release it once the bytes are in the
   * file index (the index then counts them) or were not written after all.
   */
  reserve(node: string, bytes: number): RoomReservation {
    // A streamed upload starts from nothing and grows: even an over-full node takes an empty file.
    if (bytes > 0) this.assertRoom(node, bytes);
    let held = 0;
    let released = false;
    const add = (n: number) => {
      held += n;
      this.incoming.set(node, (this.incoming.get(node) ?? 0) + n);
    };
    add(bytes);
    const self = this;
    return {
      node,
      get bytes() {
        return held;
      },
      grow(n: number) {
        if (released) return;
        const v = self.of(node);
        // The figures leave this reservation's own bytes out of "arriving": they are what the file needs.
        const err = checkNodeRoom({ node, capacityBytes: v.capacityBytes, usedBytes: v.usedBytes, incomingBytes: v.incomingBytes - held, needBytes: held + n, streamed: true });
        if (err) throw err;
        add(n);
      },
      release() {
        if (released) return;
        released = true;
        const left = (self.incoming.get(node) ?? 0) - held;
        if (left > 0) self.incoming.set(node, left);
        else self.incoming.delete(node);
      },
    };
  }
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
    const history = listCapacitySamples(this.deps.db, { since: new Date(now.getTime() - this.config.trendWindowMs).toISOString(), limit: 10_000 });
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
        this.deps.operations.record({ action: 'capacity_recommendation', status: 'success', details: { from: last.action, to: view.action, reason: view.reason } });
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
