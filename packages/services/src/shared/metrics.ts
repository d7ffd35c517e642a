import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

import type { SchedulerPlan, ZkServerStats } from '@zkha/core';
import type { StoreRecord } from '@zkha/db';

export interface MetricsSources {
  fileCounts: () => Record<string, number>;
  drained: () => ReadonlySet<string>;
  taskCounts: () => Record<string, number>;
  plan: () => SchedulerPlan;
  stats: () => readonly ZkServerStats[];
  stores: () => readonly StoreRecord[];
  nodes: readonly string[];
  /** This instance's part in the control plane (absent: standalone, always leading). */
  control?: () => { leader: boolean; elections: number; takeovers: number };
  /** The migration journal: tasks by status (whole journal), bytes moved, and the current rate. */
  migrationQueue?: () => {
    pending: number;
    running: number;
    paused: number;
    failed: number;
    completed: number;
    bytesDone: number;
    rateBytesPerSec: number;
  };
  /** Each ZooKeeper server's load score (0-100) and its components (each 0-1 of its reference). */
  loads?: () => readonly { node: string; score: number | null; components: readonly { key: string; normalised: number | null }[] }[];
  /** The storage cluster's capacity as the planner sees it; `secondsToUpper`: growing, the time to the band's upper edge. */
  capacity?: () => {
    usedBytes: number;
    capacityBytes: number;
    utilization: number;
    upperUtilization: number;
    secondsToUpper: number | null;
  };
  /** The ensemble's servers by role, and the committed dynamic config version (as a number; null when unknown). */
  ensemble?: () => { roles: Record<string, number>; configVersion: number | null };
}

/** Request durations: from a fast read (~1 ms) to a long run (a whole plan waited on, ~minutes). */
const DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120];

/**
 * Prometheus metrics. Gauges read their sources at scrape time (prom-client `collect`), so a scrape is
 * never stale and nothing has to remember to refresh them; counters count events as they happen.
 * The ZooKeeper figures from mntr are exported here too, so Prometheus needs no separate exporter.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly migrations: Counter<'result'>;
  readonly storeOffline: Counter<'node'>;
  /** HTTP requests by route pattern (never the raw URL: bounded labels), method and status code. */
  readonly http: Histogram<'route' | 'method' | 'code'>;
  /** tRPC calls by procedure, type and outcome code (OK or the tRPC error code). */
  readonly trpc: Histogram<'procedure' | 'type' | 'code'>;
  readonly rateLimited: Counter<'surface'>;

  constructor(sources: MetricsSources) {
    const r = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'zkha_' });
    registerControlPlane(r, sources);
    registerFilesAndTasks(r, sources);
    this.migrations = registerMigrationResults(r);
    registerScheduler(r, sources);
    this.storeOffline = registerStoreLiveness(r, sources);
    const requests = registerRequests(r);
    this.http = requests.http;
    this.trpc = requests.trpc;
    this.rateLimited = requests.rateLimited;
    registerMigrationQueue(r, sources);
    registerEnsemble(r, sources);
    registerCapacity(r, sources);
    registerZkServers(r, sources);
  }

  recordStoreOffline(node: string): void {
    this.storeOffline.inc({ node });
  }

  /** One HTTP request served (`route` is the route's pattern, not the URL). */
  observeHttp(route: string, method: string, code: number, seconds: number): void {
    this.http.observe({ route, method, code: String(code) }, seconds);
  }

  observeTrpc(procedure: string, type: string, code: string, seconds: number): void {
    this.trpc.observe({ procedure, type, code }, seconds);
  }

  recordRateLimited(surface: 'trpc' | 'rest'): void {
    this.rateLimited.inc({ surface });
  }

  recordMigration(result: 'success' | 'failed'): void {
    this.migrations.inc({ result });
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

/** The registries every metric here registers in (the instance's own, never prom-client's global one). */
type Registers = Registry[];

/** Whether this instance leads the control plane, and the elections and takeovers it counted. */
function registerControlPlane(r: Registers, sources: MetricsSources): void {
  new Gauge({
    name: 'zkha_control_leader',
    help: '1 while this zkha instance leads the control plane (runs the scheduler, the migration queue and the other loops), else 0',
    registers: r,
    collect() {
      this.set(sources.control ? (sources.control().leader ? 1 : 0) : 1);
    },
  });
  // Counted by the control plane itself; read at scrape time like the gauges.
  const counted = (name: string, help: string, read: (c: { elections: number; takeovers: number }) => number) =>
    new Counter({
      name,
      help,
      registers: r,
      collect() {
        this.reset();
        const c = sources.control?.();
        if (c) this.inc(read(c));
      },
    });
  counted(
    'zkha_control_elections_total',
    'Times this zkha instance became leader of the control plane since it started',
    (c) => c.elections,
  );
  counted(
    'zkha_control_takeovers_total',
    'Times this zkha instance took the lead over from another instance (failovers it ran)',
    (c) => c.takeovers,
  );
}

/** Files on each storage node, which nodes are drained, and the workload's tasks by status. */
function registerFilesAndTasks(r: Registers, sources: MetricsSources): void {
  new Gauge({
    name: 'zk_demo_files_per_node',
    help: 'Demo files stored on each node',
    labelNames: ['node'],
    registers: r,
    collect() {
      const counts = sources.fileCounts();
      for (const node of sources.nodes) this.set({ node }, counts[node] ?? 0);
    },
  });
  new Gauge({
    name: 'zk_demo_node_drained',
    help: '1 when the node is drained (takes no new files and is emptied first)',
    labelNames: ['node'],
    registers: r,
    collect() {
      const drained = sources.drained();
      for (const node of sources.nodes) this.set({ node }, drained.has(node) ? 1 : 0);
    },
  });
  new Gauge({
    name: 'zk_demo_tasks_total',
    help: 'Tasks by status',
    labelNames: ['status'],
    registers: r,
    collect() {
      const counts = sources.taskCounts();
      for (const status of ['queued', 'running', 'done', 'failed']) this.set({ status }, counts[status] ?? 0);
    },
  });
}

/** File migrations by result, both results exported from the start. */
function registerMigrationResults(r: Registers): Counter<'result'> {
  const migrations = new Counter({
    name: 'zk_demo_migrations_total',
    help: 'File migrations attempted by the scheduler, by result',
    labelNames: ['result'],
    registers: r,
  });
  migrations.inc({ result: 'success' }, 0);
  migrations.inc({ result: 'failed' }, 0);
  return migrations;
}

/** The scheduler's current imbalance and the threshold it acts at. */
function registerScheduler(r: Registers, sources: MetricsSources): void {
  new Gauge({
    name: 'zk_demo_scheduler_delta',
    help: 'Files on the busiest schedulable node minus files on the scheduler target',
    registers: r,
    collect() {
      this.set(sources.plan().delta);
    },
  });
  new Gauge({
    name: 'zk_demo_scheduler_threshold',
    help: 'Delta at which the scheduler moves a file',
    registers: r,
    collect() {
      this.set(sources.plan().threshold);
    },
  });
}

/** Each storage agent's liveness; returns the counter of its transitions to OFFLINE. */
function registerStoreLiveness(r: Registers, sources: MetricsSources): Counter<'node'> {
  new Gauge({
    name: 'zk_demo_store_status',
    help: 'Storage agent liveness from its ephemeral alive znode: 1 OK, 0.5 SUSPECT, 0 OFFLINE',
    labelNames: ['node'],
    registers: r,
    collect() {
      this.reset();
      for (const s of sources.stores()) this.set({ node: s.node }, s.status === 'OK' ? 1 : s.status === 'SUSPECT' ? 0.5 : 0);
    },
  });
  return new Counter({
    name: 'zk_demo_store_offline_total',
    help: 'Transitions of a storage agent to OFFLINE',
    labelNames: ['node'],
    registers: r,
  });
}

/** The requests zkha serves: HTTP and tRPC durations, and the requests refused for rate limits. */
function registerRequests(r: Registers) {
  const http = new Histogram({
    name: 'zkha_http_request_duration_seconds',
    help: 'HTTP requests served by zkha, by route pattern, method and status code',
    labelNames: ['route', 'method', 'code'],
    buckets: DURATION_BUCKETS,
    registers: r,
  });
  const trpc = new Histogram({
    name: 'zkha_trpc_request_duration_seconds',
    help: 'tRPC procedure calls (queries and mutations; a subscription counts until its first answer), by procedure, type and outcome',
    labelNames: ['procedure', 'type', 'code'],
    buckets: DURATION_BUCKETS,
    registers: r,
  });
  const rateLimited = new Counter({
    name: 'zkha_rate_limited_total',
    help: 'Requests refused because the caller was out of allowance (429 / TOO_MANY_REQUESTS)',
    labelNames: ['surface'],
    registers: r,
  });
  return { http, trpc, rateLimited };
}

// One unlabelled figure read from a source at scrape time: a gauge, or a counter for a total that only grows
// (read whole each time: the journal keeps finished tasks). Nothing is exported while the source has no answer.
function figure<T>(
  r: Registers,
  kind: 'gauge' | 'counter',
  name: string,
  help: string,
  source: () => T | undefined,
  read: (x: T) => number | null,
): void {
  const value = () => {
    const x = source();
    return x === undefined ? null : read(x);
  };
  const options = {
    name,
    help,
    registers: r,
    collect(this: { reset(): void; set?: (v: number) => void; inc?: (v: number) => void }) {
      this.reset();
      const v = value();
      if (v !== null) (kind === 'gauge' ? this.set! : this.inc!).call(this, v);
    },
  };
  if (kind === 'gauge') new Gauge(options);
  else new Counter(options);
}

/** The migration journal: tasks by status, the transfer rate, and the totals that only grow. */
function registerMigrationQueue(r: Registers, sources: MetricsSources): void {
  const queue = () => sources.migrationQueue?.();
  figure(r, 'gauge', 'zkha_migrations_pending', 'Migration tasks queued and not started', queue, (q) => q.pending);
  figure(r, 'gauge', 'zkha_migrations_running', 'Migration tasks being copied or settled now', queue, (q) => q.running);
  figure(r, 'gauge', 'zkha_migrations_paused', 'Migration tasks paused by an operator', queue, (q) => q.paused);
  figure(
    r,
    'gauge',
    'zkha_migration_rate_bytes_per_second',
    'Bytes moved per second by migrations, over the last window',
    queue,
    (q) => q.rateBytesPerSec,
  );
  figure(
    r,
    'counter',
    'zkha_migrations_failed_total',
    "Migration tasks that failed (the file stayed whole on its source), over this instance's journal",
    queue,
    (q) => q.failed,
  );
  figure(
    r,
    'counter',
    'zkha_migrations_completed_total',
    "Migration tasks completed, over this instance's journal",
    queue,
    (q) => q.completed,
  );
  figure(
    r,
    'counter',
    'zkha_migration_moved_bytes_total',
    "Bytes of completed and running migrations, over this instance's journal",
    queue,
    (q) => q.bytesDone,
  );
}

/** The ZooKeeper ensemble: each server's load score and its components, servers by role, the config version. */
function registerEnsemble(r: Registers, sources: MetricsSources): void {
  new Gauge({
    name: 'zkha_ensemble_load_score',
    help: 'Load score of each ZooKeeper server, 0-100 (the weighted mean of its components)',
    labelNames: ['node'],
    registers: r,
    collect() {
      this.reset();
      for (const l of sources.loads?.() ?? []) if (l.score !== null) this.set({ node: l.node }, l.score);
    },
  });
  new Gauge({
    name: 'zkha_ensemble_load_component_ratio',
    help: 'Each load-score component of each server as a fraction of its reference (1 = fully loaded)',
    labelNames: ['node', 'component'],
    registers: r,
    collect() {
      this.reset();
      for (const l of sources.loads?.() ?? [])
        for (const c of l.components) if (c.normalised !== null) this.set({ node: l.node, component: c.key }, c.normalised);
    },
  });
  new Gauge({
    name: 'zkha_ensemble_servers',
    help: 'ZooKeeper servers in the ensemble by role (participant, observer)',
    labelNames: ['role'],
    registers: r,
    collect() {
      this.reset();
      for (const [role, n] of Object.entries(sources.ensemble?.().roles ?? {})) this.set({ role }, n);
    },
  });
  new Gauge({
    name: 'zkha_ensemble_config_version',
    help: "The ensemble's committed dynamic configuration version (ZooKeeper's hex version as a number)",
    registers: r,
    collect() {
      const v = sources.ensemble?.().configVersion;
      if (v !== null && v !== undefined) this.set(v);
    },
  });
}

/** The storage cluster's capacity as the planner sees it, and the forecast to its upper band edge. */
function registerCapacity(r: Registers, sources: MetricsSources): void {
  const capacity = () => sources.capacity?.();
  figure(r, 'gauge', 'zkha_capacity_used_bytes', 'Bytes stored on the active storage nodes', capacity, (c) => c.usedBytes);
  figure(r, 'gauge', 'zkha_capacity_bytes', 'Capacity of the active storage nodes', capacity, (c) => c.capacityBytes);
  figure(r, 'gauge', 'zkha_capacity_utilization_ratio', 'Used bytes over capacity, 0-1', capacity, (c) => c.utilization);
  figure(
    r,
    'gauge',
    'zkha_capacity_upper_utilization_ratio',
    "The planner's upper band edge, 0-1: past it, it advises adding nodes",
    capacity,
    (c) => c.upperUtilization,
  );
  figure(
    r,
    'gauge',
    'zkha_capacity_forecast_seconds',
    'While usage grows: seconds until utilization reaches the upper band edge at the fitted growth (absent otherwise)',
    capacity,
    (c) => c.secondsToUpper,
  );
}

/** Each ZooKeeper server's figures from its probes (mntr), one gauge per figure labelled by server. */
function registerZkServers(r: Registers, sources: MetricsSources): void {
  const perNode = (name: string, help: string, read: (s: ZkServerStats) => number | null) =>
    new Gauge({
      name,
      help,
      labelNames: ['node'],
      registers: r,
      collect() {
        this.reset();
        for (const s of sources.stats()) {
          const v = read(s);
          if (v !== null) this.set({ node: s.node }, v);
        }
      },
    });
  perNode('zk_demo_node_up', '1 when the ZooKeeper server answers and serves requests', (s) => (s.up ? 1 : 0));
  perNode('zk_demo_avg_latency', 'Average request latency reported by the server (ms)', (s) => s.latencyAvg);
  perNode('zk_demo_zk_min_latency', 'Minimum request latency reported by the server (ms)', (s) => s.latencyMin);
  perNode('zk_demo_zk_max_latency', 'Maximum request latency reported by the server (ms)', (s) => s.latencyMax);
  perNode('zk_demo_zk_leader', '1 on the server that is the leader', (s) => (s.up ? (s.mode === 'leader' ? 1 : 0) : null));
  perNode('zk_demo_zk_znode_count', 'Znodes in the server data tree (mntr zk_znode_count)', (s) => s.znodeCount);
  perNode('zk_demo_zk_watch_count', 'Watches set on the server (mntr zk_watch_count)', (s) => s.watchCount);
  perNode('zk_demo_zk_alive_connections', 'Client connections (mntr zk_num_alive_connections)', (s) => s.connections);
  perNode('zk_demo_zk_outstanding_requests', 'Queued requests (mntr zk_outstanding_requests)', (s) => s.outstandingRequests);
}
