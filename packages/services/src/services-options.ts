import type { Caps, LoadScoreConfig, NodeController, OrderingPolicy, ScalingPolicy } from '@zkha/core';
import type { Db } from '@zkha/db';
import type { LogStore } from '@zkha/logs';
import type { FileStoragePort } from '@zkha/storage';
import type { ZkSession } from '@zkha/zk';
import type { EnsembleNodeSpec, LocalEnsemble } from '@zkha/zk-local';

import type { StorageCapacitySettings } from './capacity/node-capacities.ts';
import type { ControlOptions } from './control-plane/election.ts';
import type { PortAllocator } from './ensemble/ports.ts';
import type { EnsembleMember, Prober } from './liveness/cluster-monitor.ts';
import type { SchedulerConfig } from './scheduler/scheduler.ts';
import type { Clock } from './shared/clock.ts';
import type { CapacityConfig } from './storage-nodes/capacity-planner.ts';
import type { AgentHooks } from './storage-nodes/lifecycle.ts';
import type { DemoWorkloadConfig, HeldClient } from './workload/demo-workload.ts';

export interface ServicesOptions {
  db: Db;
  /** The one way to the files' bytes: each node's storage agent (AgentStorage over the agents' data API). */
  storage: FileStoragePort;
  session: ZkSession;
  members: readonly EnsembleMember[];
  /**
   * The ensemble's servers that are storage nodes from the start (default: every member). On the embedded
   * default these are the configured servers: one added by ensemble scaling carries no storage.
   */
  storageEnsemble?: readonly string[];
  /** Node control driver; null when disabled. */
  controller?: NodeController | null;
  /** Watch storage agents' alive znodes (only meaningful when agents run). */
  liveness?: { reconcileIntervalMs: number } | null;
  /** The demo workload generator; it runs only when `enabled` (never in tests unless a test asks). */
  demoWorkload?: DemoWorkloadConfig;
  /** Migration engine caps and ordering policy at start. */
  migrations?: { caps?: Partial<Caps>; policy?: OrderingPolicy; adaptive?: boolean; sameHostLinks?: boolean };
  /** The searchable log store (SQLite FTS5 by default, Elasticsearch when configured). */
  logStore?: LogStore | null;
  /** Opens an extra ZooKeeper session for the demo workload to hold. */
  connectClient?: () => Promise<HeldClient>;
  /** Starts and stops agents of storage nodes added while running; null where zkha runs no agents. */
  agents?: AgentHooks | null;
  /** Capacity planner sampling and targets. */
  capacity?: Partial<CapacityConfig>;
  /** Each storage node's configured capacity (default and per-node); none when not given. */
  storageCapacity?: StorageCapacitySettings;
  probe: Prober;
  /** The embedded ensemble's launcher when zkha runs the servers (membership changes, rolling restart, host figures). */
  localEnsemble?: LocalEnsemble | null;
  /** Load score, history, scaling policy and membership-change settings. */
  ensemble?: EnsembleOptions;
  scheduler: SchedulerConfig;
  /**
   * Several instances on one ensemble: this one takes part in the leader election under /zkha/control and runs
   * the background loops only while it leads. Absent: a standalone instance that always runs them.
   */
  control?: ControlOptions | null;
  clock?: Clock;
  probeIntervalMs?: number;
  uploadMaxBytes?: number;
  /** Development only: error answers carry the server's stack trace (ERROR_STACKS). */
  errorStacks?: boolean;
}

export interface EnsembleOptions {
  score?: LoadScoreConfig;
  historyMinutes?: number;
  policy?: Partial<ScalingPolicy>;
  evaluateIntervalMs?: number;
  watchIntervalMs?: number;
  changeTimeoutMs?: number;
  /** Ports for servers added while running (default: free ephemeral ports). */
  allocatePorts?: PortAllocator;
  /** Saves the membership for the next start. */
  persist?: ((nodes: readonly EnsembleNodeSpec[]) => void) | null;
}
