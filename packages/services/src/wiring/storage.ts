import { NodeCapacities } from '../capacity/node-capacities.ts';
import { FilesService } from '../files/files.ts';
import { ZkReconciler } from '../files/zk-reconcile.ts';
import { ClusterMonitor } from '../liveness/cluster-monitor.ts';
import { agentFilesystems } from '../liveness/filesystems.ts';
import { LivenessMonitor, storeTransitionMessage } from '../liveness/store-liveness.ts';
import type { MigrationEngine } from '../migrations/engine.ts';
import { quiesceMigrations } from '../migrations/leader-duties.ts';
import { CapacityService } from '../storage-nodes/capacity-planner.ts';
import { StorageNodesService } from '../storage-nodes/lifecycle.ts';
import { NodesService } from '../storage-nodes/nodes.ts';
import type { Wiring } from './wiring.ts';

/** The storage nodes, their lifecycle, and each node's capacity. */
export function wireStorageNodes(w: Wiring) {
  const { opts, db, index, operations, events, clock, late } = w;
  // The storage nodes and their lifecycle. `nodes` is its live list (active and leaving nodes): one array that
  // grows and shrinks in place, so every service below reads the current set. The engine and the scheduler
  // are bound late: they are built below and the lifecycle only calls them once running.
  const storageNodes: StorageNodesService = new StorageNodesService({
    db,
    index,
    operations,
    events,
    clock,
    ensemble: opts.storageEnsemble ?? [...w.ensembleNodes],
    plan: () => late.scheduler().dryRun(),
    engine: {
      enqueue: (...a) => late.engine().enqueue(...a),
      cancel: (id) => late.engine().cancel(id),
      openMigrations: () => late.engine().openMigrations(),
    },
    stores: () => late.liveness()?.list() ?? [],
    livenessEnabled: !!opts.liveness,
    agents: opts.agents ?? null,
    capacityOf: (node) => capacities.capacityOf(node),
  });
  // Each node's capacity, one definition for placement, puts, moves, the planners and the lifecycle view:
  // registered, else configured, bounded by the node's own filesystem (its agent's statfs) when it has one.
  const capacities = new NodeCapacities(
    {
      registered: (node) => storageNodes.registeredCapacityOf(node),
      usedBytes: (node) => index.usage(node).bytes,
      filesystems: () => agentFilesystems(late.liveness()),
    },
    opts.storageCapacity,
  );
  return { storageNodes, capacities };
}

/** The ZooKeeper servers' monitor, the files, the storage agents' liveness, and the node views (drains, control). */
export function wireClusterAndFiles(w: Wiring, storageNodes: StorageNodesService, capacities: NodeCapacities) {
  const { opts, db, storage, metadata, index, operations, events, clock, late } = w;
  const nodes = storageNodes.live;
  const cluster = new ClusterMonitor({
    members: opts.members,
    probe: opts.probe,
    events,
    operations,
    clock,
    intervalMs: opts.probeIntervalMs ?? 1000,
  });
  // FilesService needs drained nodes for placement, NodesService needs file counts: break the cycle with a late-bound getter.
  let nodesService: NodesService | undefined;
  const files = new FilesService({
    db,
    storage,
    metadata,
    index,
    operations,
    events,
    clock,
    nodes,
    capacities,
    drainedNodes: () => nodesService?.drainedSet() ?? new Set(),
    assertQuorum: (what) => cluster.assertQuorum(what),
    migrationOf: (uuid) => {
      const open = late.engine().openMigrations();
      return open.find((m) => m.uuid === uuid) ?? null;
    },
    quiesce: () => quiesceMigrations(late.engine()),
  });
  const liveness = wireStoreLiveness(w, nodes);
  nodesService = new NodesService({
    db,
    cluster,
    files,
    operations,
    events,
    nodes,
    members: w.ensembleNodes,
    lifecycleOf: (node) => storageNodes.lifecycleOf(node),
    controller: opts.controller ?? null,
    stores: () => liveness?.list() ?? [],
  });
  return { cluster, files, liveness, nodesService };
}

/** The storage agents' alive znodes, watched when agents run: each transition is counted and told on the bus. */
function wireStoreLiveness(w: Wiring, nodes: readonly string[]): LivenessMonitor | null {
  const { opts, db, operations, events, clock, late } = w;
  return opts.liveness
    ? new LivenessMonitor({
        db,
        session: opts.session,
        nodes,
        operations,
        events,
        clock,
        reconcileIntervalMs: opts.liveness.reconcileIntervalMs,
        onTransition: (node, from, to) => {
          if (to === 'OFFLINE') late.metrics()?.recordStoreOffline(node);
          events.emit('cluster', {
            at: clock.now().toISOString(),
            kind: to === 'OK' ? 'store_online' : 'store_offline',
            node,
            message: storeTransitionMessage(node, from, to),
          });
        },
      })
    : null;
}

/** What goes on when the cluster recovers: waiting moves wake, and files are reconciled after a quorum outage. */
export function wireQuorumRecovery(w: Wiring, files: FilesService, engine: MigrationEngine): ZkReconciler {
  const reconciler = new ZkReconciler({ files, operations: w.operations });
  w.events.on('cluster', (e) => {
    // Moves waiting for the quorum or for a node to come back go on (the queue only looks again when told).
    if (e.kind === 'quorum_restored' || e.kind === 'store_online' || e.kind === 'node_up') engine.wake();
    if (e.kind === 'quorum_restored') reconciler.schedule('quorum_restored');
  });
  return reconciler;
}

/** The capacity planner: samples usage and advises adding or removing storage nodes. */
export function wireCapacityPlanner(w: Wiring, nodes: readonly string[], capacities: NodeCapacities): CapacityService {
  const { opts, db, index, operations, clock } = w;
  return new CapacityService(
    {
      db,
      index,
      operations,
      clock,
      nodes: () => nodes,
      capacityOf: (node) => capacities.of(node),
      nodeSizeBytes: capacities.defaultBytes,
    },
    opts.capacity ?? {},
  );
}
