import { DEFAULT_HIGH_WATERMARK, type Caps, type NodeController, type OrderingPolicy } from '@zkha/core';
import type { LogStore } from '@zkha/logs';
import type { LoadScoreConfig, ScalingPolicy } from '@zkha/core';
import type { Db } from '@zkha/db';
import type { FileStoragePort } from '@zkha/storage';
import type { ZkSession } from '@zkha/zk';
import type { EnsembleNodeSpec, LocalEnsemble } from '@zkha/zk-local';

import { NodeCapacities, type StorageCapacitySettings } from './capacity/node-capacities.ts';
import type { ControlOptions } from './control-plane/election.ts';
import { InstanceLifecycle } from './control-plane/lifecycle.ts';
import { shareSettings } from './control-plane/shared-state.ts';
import { EnsembleService } from './ensemble/ensemble.ts';
import { LoadMonitor } from './ensemble/load-monitor.ts';
import type { PortAllocator } from './ensemble/ports.ts';
import { ensembleServers, sqliteLoadStore, sqlitePolicyStore } from './ensemble/servers.ts';
import { FileIndex } from './files/file-index.ts';
import { FileMetadataRegistry } from './files/file-metadata.ts';
import { FilesService } from './files/files.ts';
import { ZkReconciler } from './files/zk-reconcile.ts';
import { ClusterMonitor, type EnsembleMember, type Prober } from './liveness/cluster-monitor.ts';
import { agentFilesystems } from './liveness/filesystems.ts';
import { LivenessMonitor, storeTransitionMessage } from './liveness/store-liveness.ts';
import { quorumWriteBlock } from './liveness/write-guard.ts';
import { LogsService } from './logs/log-search.ts';
import { OperationsService } from './logs/operations.ts';
import { MigrationEngine } from './migrations/engine.ts';
import { quiesceMigrations, recoverMigrations, SharedJournalDuties, SharedQueueView } from './migrations/leader-duties.ts';
import { MigrationLoadSampler } from './migrations/load-sample.ts';
import { SharedMigrationJournal } from './migrations/shared-journal.ts';
import { MigrationTasksService } from './migrations/tasks.ts';
import { LivePlan } from './scheduler/live-plan.ts';
import { SchedulerService, type SchedulerConfig } from './scheduler/scheduler.ts';
import { systemClock, type Clock } from './shared/clock.ts';
import { AppEvents } from './shared/event-bus.ts';
import { reportFigures } from './shared/metric-figures.ts';
import { Metrics } from './shared/metrics.ts';
import { AgentStats } from './storage-nodes/agent-stats.ts';
import { CapacityService, type CapacityConfig } from './storage-nodes/capacity-planner.ts';
import { StorageNodesService, type AgentHooks } from './storage-nodes/lifecycle.ts';
import { NodesService } from './storage-nodes/nodes.ts';
import { DemoWorkload, type DemoWorkloadConfig, type HeldClient } from './workload/demo-workload.ts';
import { WorkloadService } from './workload/workload.ts';
import { ZnodeExplorer } from './znodes/explorer.ts';

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

export type Services = ReturnType<typeof createServices>;

/**
 * Wires the application services over real adapters. Built once by the server, and by tests with
 * their own temporary database, folder and ensemble; nothing here starts timers until `start()`.
 */
export function createServices(opts: ServicesOptions) {
  const clock = opts.clock ?? systemClock;
  const events = new AppEvents();
  const ensembleNodes = opts.members.map((m) => m.name);
  const { db, storage } = opts;
  // Under election, every metadata write is fenced by this instance's election znode (see ControlPlane.fence),
  // and the migration journal is shared through ZooKeeper so a new leader can finish what the last one started.
  const metadata = new FileMetadataRegistry(opts.session, opts.control ? () => control?.fence() ?? null : undefined);
  const shared = opts.control ? new SharedMigrationJournal(opts.session, () => control?.fence() ?? null) : null;
  const index = new FileIndex();
  const operations = new OperationsService(db, events);
  // The storage nodes and their lifecycle. `nodes` is its live list (active and leaving nodes): one array that
  // grows and shrinks in place, so every service below reads the current set. The engine and the scheduler
  // are bound late: they are built below and the lifecycle only calls them once running.
  const storageNodes: StorageNodesService = new StorageNodesService({
    db,
    index,
    operations,
    events,
    clock,
    ensemble: opts.storageEnsemble ?? [...ensembleNodes],
    plan: () => scheduler.dryRun(),
    engine: { enqueue: (...a) => engine.enqueue(...a), cancel: (id) => engine.cancel(id), openMigrations: () => engine.openMigrations() },
    stores: () => liveness?.list() ?? [],
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
      filesystems: () => agentFilesystems(liveness),
    },
    opts.storageCapacity,
  );
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
    migrationOf: (uuid) => engine.openMigrations().find((m) => m.uuid === uuid) ?? null,
    quiesce: () => quiesceMigrations(engine),
  });
  let metrics: Metrics | undefined;
  const liveness = opts.liveness
    ? new LivenessMonitor({
        db,
        session: opts.session,
        nodes,
        operations,
        events,
        clock,
        reconcileIntervalMs: opts.liveness.reconcileIntervalMs,
        onTransition: (node, from, to) => {
          if (to === 'OFFLINE') metrics?.recordStoreOffline(node);
          events.emit('cluster', {
            at: clock.now().toISOString(),
            kind: to === 'OK' ? 'store_online' : 'store_offline',
            node,
            message: storeTransitionMessage(node, from, to),
          });
        },
      })
    : null;
  nodesService = new NodesService({
    db,
    cluster,
    files,
    operations,
    events,
    nodes,
    members: ensembleNodes,
    lifecycleOf: (node) => storageNodes.lifecycleOf(node),
    controller: opts.controller ?? null,
    stores: () => liveness?.list() ?? [],
  });
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
      mayAct: () => control?.isLeader() ?? true,
      shared,
      nodes,
      reserveRoom: (node, bytes) => capacities.reserve(node, bytes),
      writeBlocked: quorumWriteBlock(cluster, 'moving files'),
      onMigration: (r) => metrics?.recordMigration(r),
      sampleLoad: loadSampler.sample,
      agentTraffic: (node) => {
        const u = agentStats.of(node);
        return u ? { inBytesPerSec: u.inBytesPerSec, outBytesPerSec: u.outBytesPerSec } : null;
      },
    },
    opts.migrations ?? {},
  );
  const capacityOf = (node: string) => capacities.capacityOf(node);
  const scheduler = new SchedulerService(
    {
      db,
      index,
      operations,
      events,
      clock,
      nodes,
      offlineNodes: () => liveness?.offlineNodes() ?? [],
      engine,
      capacityOf,
      weightOf: (node) => storageNodes.weightOf(node),
    },
    opts.scheduler,
  );
  const migrationTasks = new MigrationTasksService({
    db,
    index,
    engine,
    nodes,
    drainedNodes: () => nodesService?.drainedSet() ?? new Set(),
    offlineNodes: () => liveness?.offlineNodes() ?? [],
    capacityOf,
    highWatermark: () => scheduler.getConfig().highWatermark ?? DEFAULT_HIGH_WATERMARK,
  });
  const workload = new WorkloadService({ db, files, scheduler, operations, events, nodes });
  const demo = new DemoWorkload(
    {
      db,
      files,
      index,
      operations,
      events,
      clock,
      nodes,
      connectClient: opts.connectClient ?? (() => Promise.reject(new Error('no ZooKeeper connector configured'))),
    },
    opts.demoWorkload ?? {
      enabled: false,
      intervalSec: 20,
      maxFiles: 300,
      maxBytes: 256 * 1024 * 1024,
      minSizeKb: 4,
      maxSizeKb: 256,
      extraClients: 0,
    },
  );

  const livePlan = new LivePlan(events, () => scheduler.diagnostics());
  const reconciler = new ZkReconciler({ files, operations });
  events.on('cluster', (e) => {
    // Moves waiting for the quorum or for a node to come back go on (the queue only looks again when told).
    if (e.kind === 'quorum_restored' || e.kind === 'store_online' || e.kind === 'node_up') engine.wake();
    if (e.kind === 'quorum_restored') reconciler.schedule('quorum_restored');
  });

  const capacity = new CapacityService(
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

  // The ZooKeeper ensemble's load (from the cluster monitor's probes) and membership. A membership change
  // moves the cluster monitor and the node cards to the new server list (ensembleNodes changes in place).
  const local = opts.localEnsemble ?? null;
  const servers = ensembleServers(local, opts.controller ?? null);
  const load = new LoadMonitor(
    { events, clock, host: servers.hostStats, nodes: () => cluster.members.map((m) => m.name), store: sqliteLoadStore(db) },
    {
      intervalMs: opts.probeIntervalMs ?? 1000,
      ...(opts.ensemble?.score ? { score: opts.ensemble.score } : {}),
      ...(opts.ensemble?.historyMinutes ? { historyMinutes: opts.ensemble.historyMinutes } : {}),
    },
  );
  const ensemble = new EnsembleService(
    {
      session: opts.session,
      mayAct: () => (control ? leaderLoops.leading && control.isLeader() : true),
      cluster,
      operations,
      clock,
      load,
      local,
      driver: servers.driver,
      restartServer: servers.restartServer,
      ...(opts.ensemble?.allocatePorts ? { allocatePorts: opts.ensemble.allocatePorts } : {}),
      persist: opts.ensemble?.persist ?? null,
      reservedNames: () => nodes,
      policyStore: sqlitePolicyStore(db),
      onMembers: (members) => {
        cluster.setMembers(members);
        ensembleNodes.splice(0, ensembleNodes.length, ...members.map((m) => m.name));
      },
    },
    {
      ...(opts.ensemble?.policy ? { policy: opts.ensemble.policy } : {}),
      ...(opts.ensemble?.evaluateIntervalMs ? { evaluateIntervalMs: opts.ensemble.evaluateIntervalMs } : {}),
      ...(opts.ensemble?.watchIntervalMs ? { watchIntervalMs: opts.ensemble.watchIntervalMs } : {}),
      ...(opts.ensemble?.changeTimeoutMs ? { changeTimeoutMs: opts.ensemble.changeTimeoutMs } : {}),
    },
  );

  async function recover(): Promise<Record<string, number>> {
    const recovered = await recoverMigrations({ db, index, engine });
    livePlan.invalidate();
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
    engine,
    adaptive: () => !!opts.migrations?.adaptive,
    scheduler,
    storageNodes,
    capacity,
    demo,
    livePlan,
    load,
    agentStats,
    cluster,
    ensemble,
    liveness,
    loadSampler,
    reconciler,
    readDatabase: () => nodesService.states(),
    election: opts.control ?? null,
  });
  const { projection, settings, leaderLoops, control } = lifecycle;
  // Under election, the settings every instance must agree on (see InstanceLifecycle.settings).
  if (settings)
    shareSettings(settings, events, () => control?.isLeader() ?? false, { drains: nodesService, storageNodes, scheduler, engine });

  metrics = new Metrics({
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
