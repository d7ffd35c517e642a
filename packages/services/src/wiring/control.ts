import { InstanceLifecycle, type InstanceLifecycleDeps } from '../control-plane/lifecycle.ts';
import { shareSettings } from '../control-plane/shared-state.ts';
import type { EnsembleService } from '../ensemble/ensemble.ts';
import type { LoadMonitor } from '../ensemble/load-monitor.ts';
import type { FilesService } from '../files/files.ts';
import type { ClusterMonitor } from '../liveness/cluster-monitor.ts';
import type { LivenessMonitor } from '../liveness/store-liveness.ts';
import type { MigrationEngine } from '../migrations/engine.ts';
import { recoverMigrations, SharedJournalDuties, SharedQueueView } from '../migrations/leader-duties.ts';
import type { LivePlan } from '../scheduler/live-plan.ts';
import type { SchedulerService } from '../scheduler/scheduler.ts';
import { reportFigures } from '../shared/metric-figures.ts';
import { Metrics } from '../shared/metrics.ts';
import type { CapacityService } from '../storage-nodes/capacity-planner.ts';
import type { StorageNodesService } from '../storage-nodes/lifecycle.ts';
import type { NodesService } from '../storage-nodes/nodes.ts';
import type { DemoWorkload } from '../workload/demo-workload.ts';
import type { WorkloadService } from '../workload/workload.ts';
import type { Wiring } from './wiring.ts';

/**
 * The instance's init, start and stop, the leader's loops (`leads`: what they run), and under election what runs
 * around them: recovery of the shared journal, the follower's queue view, and the settings every instance shares.
 */
export function wireControlPlane(
  w: Wiring,
  leads: {
    engine: MigrationEngine;
    scheduler: SchedulerService;
    storageNodes: StorageNodesService;
    capacity: CapacityService;
    demo: DemoWorkload;
  },
  runs: Pick<
    InstanceLifecycleDeps,
    'livePlan' | 'load' | 'agentStats' | 'cluster' | 'ensemble' | 'liveness' | 'loadSampler' | 'reconciler'
  >,
  nodesService: NodesService,
): InstanceLifecycle {
  const { opts, db, storage, index, metadata, operations, events, clock, shared } = w;
  const { engine } = leads;
  async function recover(): Promise<Record<string, number>> {
    const recovered = await recoverMigrations({ db, index, engine });
    runs.livePlan.invalidate();
    return recovered;
  }
  const sharedDuties = shared ? new SharedJournalDuties({ db, storage, shared, engine, index }) : null;
  // A follower's view of the leader's migration queue.
  const queueView = shared ? new SharedQueueView({ shared, engine, index }) : null;
  // The instance's init, start and stop, the leader's loops, and under election what runs around them.
  const lifecycle: InstanceLifecycle = new InstanceLifecycle({
    session: opts.session,
    db,
    index,
    metadata,
    operations,
    events,
    clock,
    shared,
    queueView,
    recover,
    sharedDuties,
    adaptive: () => !!opts.migrations?.adaptive,
    ...leads,
    ...runs,
    readDatabase: () => nodesService.states(),
    election: opts.control ?? null,
  });
  const { settings, control } = lifecycle;
  // Under election, the settings every instance must agree on (see InstanceLifecycle.settings).
  if (settings)
    shareSettings(settings, events, () => control?.isLeader() ?? false, {
      drains: nodesService,
      storageNodes: leads.storageNodes,
      scheduler: leads.scheduler,
      engine,
    });
  return lifecycle;
}

/** The metrics, each read from its service at scrape time. */
export function wireMetrics(from: {
  nodes: readonly string[];
  files: FilesService;
  nodesService: NodesService;
  workload: WorkloadService;
  livePlan: LivePlan;
  cluster: ClusterMonitor;
  liveness: LivenessMonitor | null;
  control: InstanceLifecycle['control'];
  engine: MigrationEngine;
  load: LoadMonitor;
  capacity: CapacityService;
  ensemble: EnsembleService;
}): Metrics {
  const { nodes, files, nodesService, workload, livePlan, cluster, liveness, control, engine, load, capacity, ensemble } = from;
  return new Metrics({
    nodes,
    fileCounts: () => files.counts(),
    drained: () => nodesService.drainedSet(),
    taskCounts: () => workload.taskCounts(),
    plan: livePlan.current,
    stats: () => cluster.cached(),
    stores: () => liveness?.list() ?? [],
    ...(control ? { control: () => ({ leader: control.isLeader(), elections: control.elections, takeovers: control.takeovers }) } : {}),
    ...reportFigures({ engine, load, capacity, cluster, ensemble }),
  });
}

/** The instance's init, start, stop and what it says of itself, as the services expose them. */
export function instanceControls(lifecycle: InstanceLifecycle) {
  return {
    /** Creates the znode roots; call before serving. (Each agent keeps its own folder and its temp files.) */
    init() {
      return lifecycle.init();
    },
    start() {
      return lifecycle.start();
    },
    stop() {
      return lifecycle.stop();
    },
    /** The instances on this ensemble and who leads; a standalone instance reports itself alone. */
    controlStatus() {
      return lifecycle.controlStatus();
    },
    health: () => lifecycle.health(),
  };
}
