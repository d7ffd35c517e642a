import type { NodeCapacities } from '../capacity/node-capacities.ts';
import type { ClusterMonitor } from '../liveness/cluster-monitor.ts';
import type { LivenessMonitor } from '../liveness/store-liveness.ts';
import { quorumWriteBlock } from '../liveness/write-guard.ts';
import { MigrationEngine } from '../migrations/engine.ts';
import { MigrationLoadSampler } from '../migrations/load-sample.ts';
import { AgentStats } from '../storage-nodes/agent-stats.ts';
import type { Wiring } from './wiring.ts';

/** The migration engine, with the agents' traffic and the load figures it throttles by. */
export function wireMigrationEngine(
  w: Wiring,
  from: { nodes: readonly string[]; cluster: ClusterMonitor; liveness: LivenessMonitor | null; capacities: NodeCapacities },
) {
  const { opts, db, storage, metadata, index, operations, events, clock, shared, late } = w;
  const { nodes, cluster, liveness, capacities } = from;
  const agentStats = new AgentStats({ storage, nodes });
  const loadSampler = new MigrationLoadSampler({
    zkLatencies: () => cluster.cached().map((s) => s.latencyAvg),
    agentsMaxLoad: () => agentStats.maxLoad(),
  });
  const engine = new MigrationEngine(
    {
      db,
      storage,
      metadata,
      index,
      operations,
      events,
      clock,
      offlineNodes: () => liveness?.offlineNodes() ?? [],
      mayAct: () => late.control()?.isLeader() ?? true,
      shared,
      nodes,
      reserveRoom: (node, bytes) => capacities.reserve(node, bytes),
      writeBlocked: quorumWriteBlock(cluster, 'moving files'),
      onMigration: (r) => late.metrics()?.recordMigration(r),
      sampleLoad: loadSampler.sample,
      agentTraffic: (node) => {
        const u = agentStats.of(node);
        return u ? { inBytesPerSec: u.inBytesPerSec, outBytesPerSec: u.outBytesPerSec } : null;
      },
    },
    opts.migrations ?? {},
  );
  return { agentStats, loadSampler, engine };
}
