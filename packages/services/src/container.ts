import { LogsService } from './logs/log-search.ts';
import { LivePlan } from './scheduler/live-plan.ts';
import type { ServicesOptions } from './services-options.ts';
import type { Metrics } from './shared/metrics.ts';
import { instanceControls, wireControlPlane, wireMetrics } from './wiring/control.ts';
import { wireEnsemble } from './wiring/ensemble.ts';
import { wireMigrationEngine } from './wiring/migrations.ts';
import { wireScheduler, wireWorkload } from './wiring/scheduler.ts';
import { wireCapacityPlanner, wireClusterAndFiles, wireQuorumRecovery, wireStorageNodes } from './wiring/storage.ts';
import { wireFoundation, type LateBound } from './wiring/wiring.ts';
import { ZnodeExplorer } from './znodes/explorer.ts';

export type { ServicesOptions, EnsembleOptions } from './services-options.ts';

export type Services = ReturnType<typeof createServices>;

/**
 * Wires the application services over real adapters. Built once by the server, and by tests with
 * their own temporary database, folder and ensemble; nothing here starts timers until `start()`.
 * It only wires: each step lives in `wiring/`, called here in order, as the order of construction and of the
 * bus subscriptions matters.
 */
export function createServices(opts: ServicesOptions) {
  let metrics: Metrics | undefined;
  // Services built after the ones that call them; those calls only come once running.
  const late: LateBound = {
    control: () => control,
    leaderLoops: () => leaderLoops,
    metrics: () => metrics,
    scheduler: () => scheduler,
    engine: () => engine,
    liveness: () => liveness,
  };
  const w = wireFoundation(opts, late);
  const { clock, events, db, storage, ensembleNodes, metadata, index, operations } = w;
  const { storageNodes, capacities } = wireStorageNodes(w);
  const nodes = storageNodes.live;
  const { cluster, files, liveness, nodesService } = wireClusterAndFiles(w, storageNodes, capacities);
  const { agentStats, loadSampler, engine } = wireMigrationEngine(w, { nodes, cluster, liveness, capacities });
  const { scheduler, migrationTasks } = wireScheduler(w, { storageNodes, capacities, liveness, nodesService, engine });
  const { workload, demo } = wireWorkload(w, files, scheduler, nodes);
  const livePlan = new LivePlan(events, () => scheduler.diagnostics());
  const reconciler = wireQuorumRecovery(w, files, engine);
  const capacity = wireCapacityPlanner(w, nodes, capacities);
  const { load, ensemble } = wireEnsemble(w, cluster, nodes);
  const lifecycle = wireControlPlane(
    w,
    { engine, scheduler, storageNodes, capacity, demo },
    { livePlan, load, agentStats, cluster, ensemble, liveness, loadSampler, reconciler },
    nodesService,
  );
  const { projection, leaderLoops, control } = lifecycle;
  metrics = wireMetrics({ nodes, files, nodesService, workload, livePlan, cluster, liveness, control, engine, load, capacity, ensemble });

  return {
    config: { nodes, ensembleNodes, uploadMaxBytes: opts.uploadMaxBytes ?? 256 * 1024 * 1024, errorStacks: opts.errorStacks ?? false },
    clock,
    events,
    db,
    storage,
    session: opts.session,
    liveness,
    logs: new LogsService(opts.logStore ?? null),
    metadata,
    /** This instance's projection of ZooKeeper's file metadata (null when standalone). */
    projection,
    index,
    operations,
    cluster,
    load,
    ensemble,
    files,
    nodes: nodesService,
    storageNodes,
    capacities,
    capacity,
    scheduler,
    engine,
    migrationTasks,
    workload,
    demo,
    metrics,
    currentPlan: livePlan.current,
    znodes: new ZnodeExplorer({ session: opts.session, operations }),
    control,
    ...instanceControls(lifecycle),
  };
}
