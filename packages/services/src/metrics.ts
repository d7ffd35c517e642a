import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';

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
}

/**
 * Prometheus metrics. Gauges read their sources at scrape time (prom-client `collect`), so a scrape is
 * never stale and nothing has to remember to refresh them; counters count events as they happen.
 * The ZooKeeper figures from mntr are exported here too, so Prometheus needs no separate exporter.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly migrations: Counter<'result'>;
  readonly storeOffline: Counter<'node'>;

  constructor(sources: MetricsSources) {
    const r = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'zkha_' });
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
    counted('zkha_control_elections_total', 'Times this zkha instance became leader of the control plane since it started', (c) => c.elections);
    counted('zkha_control_takeovers_total', 'Times this zkha instance took the lead over from another instance (failovers it ran)', (c) => c.takeovers);
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
    this.migrations = new Counter({
      name: 'zk_demo_migrations_total',
      help: 'File migrations attempted by the scheduler, by result',
      labelNames: ['result'],
      registers: r,
    });
    this.migrations.inc({ result: 'success' }, 0);
    this.migrations.inc({ result: 'failed' }, 0);
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
    this.storeOffline = new Counter({
      name: 'zk_demo_store_offline_total',
      help: 'Transitions of a storage agent to OFFLINE',
      labelNames: ['node'],
      registers: r,
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

  recordStoreOffline(node: string): void {
    this.storeOffline.inc({ node });
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
