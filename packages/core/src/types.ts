/** Shapes shared by the domain, the adapters and the API. Pure data, no behaviour. */

export interface FileHistoryEntry {
  action: string; // 'created' | 'uploaded' | 'auto_migrate' | 'manual_migrate' ...
  from?: string;
  to?: string;
  node?: string;
  at: string; // ISO timestamp
}

export interface FileRecord {
  uuid: string;
  name: string;
  node: string;
  path: string; // absolute path on disk
  sizeBytes: number;
  sha256: string;
  createdAt: string; // ISO
  updatedAt: string; // ISO
  history: FileHistoryEntry[];
}

export interface NodeState {
  node: string;
  drained: boolean;
  reason: string | null;
  updatedAt: string | null;
}

export type OperationStatus = 'success' | 'failed' | 'skipped';

export interface OperationRecord {
  id: number;
  timestamp: string;
  action: string;
  node: string | null;
  status: OperationStatus;
  details: Record<string, unknown>;
  beforeMetrics: Record<string, unknown> | null;
  afterMetrics: Record<string, unknown> | null;
  /** Who acted (`token:ci`, `session:alice`, `local`, `system`); null on records from before identities. */
  actor: string | null;
}

export type TaskStatus = 'queued' | 'running' | 'done' | 'failed';

export interface TaskRecord {
  id: number;
  status: TaskStatus;
  payload: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
}

export type ZkMode = 'leader' | 'follower' | 'observer' | 'standalone' | 'unknown';

/** What a ZooKeeper server says about itself (srvr + mntr). */
export interface ZkServerStats {
  node: string;
  host: string;
  port: number;
  /** Serving client requests (in a quorum). */
  up: boolean;
  /** The process answered at all, serving or not (e.g. during an election): it still counts toward a quorum. */
  reachable: boolean;
  mode: ZkMode;
  latencyMin: number | null;
  latencyAvg: number | null;
  latencyMax: number | null;
  connections: number | null;
  outstandingRequests: number | null;
  znodeCount: number | null;
  watchCount: number | null;
  zxid: string | null;
  version: string | null;
  /** Followers in sync, only on the leader. */
  syncedFollowers: number | null;
  error: string | null;
  probedAt: string;
  /** Load figures from `mntr` beyond what srvr says (absent from probers that do not read mntr). */
  metrics?: ZkServerMetrics | null;
}

/** Counters and gauges of `mntr` that load monitoring needs; each null when the server does not print it. */
export interface ZkServerMetrics {
  /** Counter since the server started (or `srst`): requests per second come from its delta. */
  packetsReceived: number | null;
  packetsSent: number | null;
  /** ms, from 3.6+'s latency summaries (zk_p99_readlatency / zk_p99_updatelatency). */
  latencyP99Read: number | null;
  latencyP99Update: number | null;
  approximateDataSize: number | null;
  openFileDescriptors: number | null;
  maxFileDescriptors: number | null;
  ephemerals: number | null;
}

/** Stats for a server that has not answered (yet): every figure unknown, `up` false, `error` saying why. */
export function unknownServerStats(node: string, host: string, port: number, error: string | null, probedAt = new Date()): ZkServerStats {
  return {
    node,
    host,
    port,
    up: false,
    reachable: false,
    mode: 'unknown',
    latencyMin: null,
    latencyAvg: null,
    latencyMax: null,
    connections: null,
    outstandingRequests: null,
    znodeCount: null,
    watchCount: null,
    zxid: null,
    version: null,
    syncedFollowers: null,
    error,
    probedAt: probedAt.toISOString(),
  };
}
