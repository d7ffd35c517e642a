import os from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';

import { AppError, DEFAULT_HIGH_WATERMARK, type Caps, type NodeController, type NodeState, type OrderingPolicy, type SchedulerPlan } from '@zkha/core';
import type { LogStore } from '@zkha/logs';
import type { LoadScoreConfig, ScalingPolicy } from '@zkha/core';
import { filesForPlanning, getEnsembleSetting, insertEnsembleLoadSamples, listEnsembleLoadSamples, pagesOfFiles, projectNodeStates, pruneEnsembleLoadSamples, setEnsembleSetting, type Db, type StorageNodeRecord } from '@zkha/db';
import type { FileStoragePort } from '@zkha/storage';
import type { ZkSession } from '@zkha/zk';
import type { EnsembleNodeSpec, LocalEnsemble } from '@zkha/zk-local';

import { ClusterMonitor, type EnsembleMember, type Prober } from './cluster.ts';
import { systemClock, type Clock } from './clock.ts';
import { AppEvents } from './events.ts';
import { CapacityService, NodeCapacities, type CapacityConfig, type StorageCapacitySettings } from './capacity.ts';
import { FileIndex } from './file-index.ts';
import { FileMetadataRegistry, readFilesRoot } from './file-metadata.ts';
import { FileProjection } from './file-projection.ts';
import { moveKey, SharedMigrationJournal } from './shared-journal.ts';
import { SharedState } from './shared-state.ts';
import { ZnodeExplorer } from './znodes.ts';
import { recoverShared, tidyShared } from './takeover.ts';
import { FilesService } from './files.ts';
import { EnsembleService, type EnsembleDriver } from './ensemble.ts';
import type { PortAllocator } from './ensemble-ports.ts';
import { DockerHostStats, hasContainerStats, ProcessHostStats, type HostStatsSource } from './load-host.ts';
import { LoadMonitor } from './load-monitor.ts';
import { DemoWorkload, type DemoWorkloadConfig, type HeldClient } from './demo-workload.ts';
import { LivenessMonitor, storeTransitionMessage } from './liveness.ts';
import { LogsService } from './logs.ts';
import { MigrationEngine } from './migration-engine.ts';
import { MigrationTasksService } from './migration-tasks.ts';
import { Metrics } from './metrics.ts';
import { NodesService } from './nodes.ts';
import { OperationsService } from './operations.ts';
import { SchedulerService, type SchedulerConfig } from './scheduler.ts';
import { ControlPlane, defaultInstanceId, type ControlOptions, type ControlStatus, type FileTreeState, type InstanceInfo } from './control.ts';
import { StorageNodesService, type AgentHooks } from './storage-nodes.ts';
import { AgentStats } from './agent-stats.ts';
import { WorkloadService } from './workload.ts';

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
/** Feed entries kept (each up to 64 files' metadata), and how often the leader prunes the rest. */
const FEED_KEEP = 500;
const FEED_PRUNE_MS = 10_000;
/** How often the leader settles batches left in the shared journal and drops ended moves from its queue. */
const SHARED_TIDY_MS = 5_000;
/** How often a follower reads the leader's queue from the shared journal. */
const QUEUE_VIEW_MS = 1_000;
/** Records read from SQLite per putMany of a first publish (putMany keeps 8 multis of 64 in flight: 8 rounds). */
const PUBLISH_PAGE = 4096;

/** The least time between two pushes of the live plan (see currentPlan). */
const REPLAN_MS = 250;

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
      filesystems: () =>
        (liveness?.list() ?? []).map((s) => {
          const alive = liveness?.alive(s.node) ?? null;
          // Agents from before filesystemBytes reported the filesystem's size as their capacity.
          return { node: s.node, filesystemBytes: alive?.filesystemBytes ?? alive?.capacityBytes ?? null, filesystemId: alive?.filesystemId ?? null, freeBytes: alive?.freeBytes ?? null };
        }),
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
  const files = new FilesService({ db, storage, metadata, index, operations, events, clock, nodes, capacities, drainedNodes: () => nodesService?.drainedSet() ?? new Set(), assertQuorum: (what) => cluster.assertQuorum(what),
    migrationOf: (uuid) => engine.openMigrations().find((m) => m.uuid === uuid) ?? null,
    quiesce: async () => {
      // A hold of its own, not the operator's pause: toggling that one let a check that started before an
      // operator paused the queue resume it when it ended (seen in the quorum drill under load).
      const release = engine.hold();
      const deadline = Date.now() + 60_000;
      while (engine.progress().totals.running > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      if (engine.progress().totals.running > 0) {
        release();
        throw new AppError('CONFLICT', 'migrations are still copying after 60 s: the check would see files mid-move; try again, or pause the queue first');
      }
      return release;
    },
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
          events.emit('cluster', { at: clock.now().toISOString(), kind: to === 'OK' ? 'store_online' : 'store_offline', node, message: storeTransitionMessage(node, from, to) });
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
  // Event-loop delay for adaptive migration caps: p99 over the last sampling period.
  const loopDelay = monitorEventLoopDelay({ resolution: 20 });
  loopDelay.enable();
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
      writeBlocked: () => {
        try {
          cluster.assertQuorum('moving files');
          return null;
        } catch (err) {
          return err instanceof Error ? err.message : String(err);
        }
      },
      onMigration: (r) => metrics?.recordMigration(r),
      // The busier of this host and the agents' hosts, as the agents report them: moves load both ends.
      sampleLoad: () => {
        const lag = loopDelay.percentile(99) / 1e6;
        loopDelay.reset();
        const latencies = cluster.cached().map((s) => s.latencyAvg).filter((v): v is number => v !== null);
        const agents = agentStats.maxLoad();
        return {
          cpuLoad: Math.max(os.loadavg()[0]! / Math.max(1, os.availableParallelism()), agents.cpuLoad ?? 0),
          eventLoopLagMs: Math.max(lag, agents.eventLoopLagMs ?? 0),
          zkLatencyMs: latencies.length ? Math.max(...latencies) : null,
        };
      },
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
    opts.demoWorkload ?? { enabled: false, intervalSec: 20, maxFiles: 300, maxBytes: 256 * 1024 * 1024, minSizeKb: 4, maxSizeKb: 256, extraClients: 0 },
  );

  // The latest plan, for metrics scrapes and the live plan stream: computed when asked for, and pushed after
  // anything that changes it only while someone streams it (the listener below is our own). At most a few times a
  // second: a rebalance changes it thousands of times, and with 10,000 files each plan costs milliseconds
  // (measured: re-planning every 50 ms took ~8% of the control plane's CPU during a bench convergence).
  let plan: SchedulerPlan | null = null;
  let replanTimer: NodeJS.Timeout | null = null;
  const currentPlan = () => (plan ??= scheduler.diagnostics());
  events.on('changed', () => {
    plan = null;
    if (replanTimer || events.listenerCount('plan') <= 1) return;
    replanTimer = setTimeout(() => {
      replanTimer = null;
      if (events.listenerCount('plan') > 1) events.emit('plan', currentPlan());
    }, REPLAN_MS);
  });
  // After an outage of the quorum, bring ZooKeeper's file metadata back in step with the database (and disk):
  // writes were refused meanwhile, but a write cut off mid-way by the loss can leave a znode behind or missing.
  let reconcileTimer: NodeJS.Timeout | null = null;
  events.on('cluster', (e) => {
    // Moves waiting for the quorum or for a node to come back go on (the queue only looks again when told).
    if (e.kind === 'quorum_restored' || e.kind === 'store_online' || e.kind === 'node_up') engine.wake();
    if (e.kind !== 'quorum_restored' || reconcileTimer) return;
    reconcileTimer = setTimeout(() => {
      reconcileTimer = null;
      void reconcileZk('quorum_restored');
    }, 1_000);
  });
  async function reconcileZk(cause: string) {
    const started = Date.now();
    try {
      const report = await files.verify({ repair: true });
      operations.record({
        action: 'zk_reconcile',
        status: report.remaining.length === 0 ? 'success' : 'failed',
        details: { cause, found: report.found.length, repaired: report.repaired.length, remaining: report.remaining.length, durationMs: Date.now() - started },
      });
    } catch (err) {
      operations.record({ action: 'zk_reconcile', status: 'failed', details: { cause, error: err instanceof Error ? err.message : String(err) } });
    }
  }
  events.on('plan', (p) => {
    plan = p;
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
  const controller = opts.controller ?? null;
  const driver: EnsembleDriver = local ? 'process' : controller?.kind === 'docker' ? 'docker' : 'external';
  const hostStats: HostStatsSource | null = local
    ? new ProcessHostStats((n) => local.pid(n))
    : controller && hasContainerStats(controller)
      ? new DockerHostStats(controller)
      : null;
  const load = new LoadMonitor(
    {
      events,
      clock,
      host: hostStats,
      nodes: () => cluster.members.map((m) => m.name),
      // Per-minute averages in SQLite: the charts' history beyond the in-memory hour.
      store: {
        write: (rows) => insertEnsembleLoadSamples(db, rows),
        read: (o) => listEnsembleLoadSamples(db, o),
        prune: (before) => void pruneEnsembleLoadSamples(db, before),
      },
    },
    {
      intervalMs: opts.probeIntervalMs ?? 1000,
      ...(opts.ensemble?.score ? { score: opts.ensemble.score } : {}),
      ...(opts.ensemble?.historyMinutes ? { historyMinutes: opts.ensemble.historyMinutes } : {}),
    },
  );
  const ensemble = new EnsembleService(
    {
      session: opts.session,
      mayAct: () => (control ? leading && control.isLeader() : true),
      cluster,
      operations,
      clock,
      load,
      local,
      driver,
      restartServer: controller && controller.kind !== 'disabled' ? (n) => controller.restart(n) : local ? (n) => local.restartNode(n) : null,
      ...(opts.ensemble?.allocatePorts ? { allocatePorts: opts.ensemble.allocatePorts } : {}),
      persist: opts.ensemble?.persist ?? null,
      reservedNames: () => nodes,
      policyStore: {
        load: () => getEnsembleSetting<Partial<ScalingPolicy>>(db, 'scaling_policy'),
        save: (p) => setEnsembleSetting(db, 'scaling_policy', { ...p }),
      },
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
    const recovery = await engine.recover();
    if (recovery.rolledBack + recovery.rolledForward > 0) index.load(filesForPlanning(db));
    plan = null;
    return { ...recovery };
  }
  // The background loops only the leader runs (a standalone instance always does): the migration engine's pump
  // and recovery, the automatic scheduler, the node lifecycle, the capacity sampler and the demo workload. The
  // scaling policy asks control.isLeader() itself (EnsembleService.evaluate).
  let leading = false;
  // Under election, this instance's projection of ZooKeeper's file metadata while it follows (see FileProjection).
  const projection = opts.control
    ? new FileProjection({
        session: opts.session,
        db,
        index,
        events,
        onIncomplete: ({ files, kept }) =>
          operations.record({ action: 'zk_files_trim', status: 'skipped', details: { files, kept, why: 'the file tree in ZooKeeper is not marked complete (a first publish cut short, or a tree from before the mark): rows it lacks are kept until the leader publishes them' } }),
      })
    : null;
  let feedTimer: NodeJS.Timeout | null = null;
  let tidyTimer: NodeJS.Timeout | null = null;
  /**
   * Before a new leader acts, its database says what ZooKeeper says, once the tree is marked complete. Until then
   * (a first publish cut short, or a tree from before the mark) it publishes the union first: creates the znodes of
   * its records the tree lacks, deletes nothing, marks the tree, and only then reads it back.
   */
  async function alignWithZooKeeper(): Promise<void> {
    if (!projection) return;
    queueView.stop();
    projection.stop();
    await settings?.load();
    // The mark and the count from the root: the 100,000 names themselves are read only by the steps that need them.
    const root = await readFilesRoot(opts.session.client);
    // A tree with no file znodes at all beside a database with files is published, marked or not, as before the
    // mark: a deployment from before the shared state, not one whose every file was deleted.
    if (root.published && !(root.files === 0 && index.size > 0)) {
      await projection.catchUp();
      return;
    }
    projection.treeComplete = false;
    // Nothing is deleted here, and the mark comes last: a publish cut short again leaves a tree still unmarked, which
    // the next leader completes the same way. The names in the tree, held as a set while publishing (~10 MB at 100k).
    const inTree = root.files > 0 ? new Set(await metadata.list()) : null;
    let created = 0;
    // A page at a time: 100,000 records with their histories held at once were ~60 MB of heap at the peak.
    for (const page of pagesOfFiles(db, PUBLISH_PAGE)) {
      const missing = inTree ? page.filter((f) => !inTree.has(f.uuid)) : page;
      if (missing.length > 0) await metadata.putMany(missing, { create: true });
      created += missing.length;
    }
    const files = (inTree?.size ?? 0) + created;
    await metadata.markPublished(files);
    projection.treeComplete = true;
    operations.record({
      action: 'zk_publish_files',
      status: 'success',
      details: {
        files,
        created,
        found: root.files,
        why: root.files === 0 ? 'ZooKeeper held no file metadata: published this instance\'s' : 'the file tree was not marked complete (a first publish cut short, or a tree from before the mark): published what it lacked of this instance\'s, removed nothing',
      },
    });
    // The tree held records this database may lack (published by another instance): read them in. Nothing it had
    // is removed, as every record here is in the tree now.
    if (inTree) await projection.resync();
  }
  /**
   * Whether ZooKeeper's file tree is marked complete, as this instance last saw it: while 'incomplete', no instance
   * trims its files to it and the leader publishes what it lacks. 'unknown' before the first look, and alone (a
   * standalone instance follows no shared tree).
   */
  const fileTree = (): FileTreeState => (projection?.treeComplete === true ? 'complete' : projection?.treeComplete === false ? 'incomplete' : 'unknown');
  // A follower's view of the leader's migration queue, read from the shared journal every second.
  let queueViewTimer: NodeJS.Timeout | null = null;
  const queueView = {
    start() {
      if (!shared || queueViewTimer) return;
      let busy = false;
      queueViewTimer = setInterval(() => {
        if (busy) return;
        busy = true;
        void shared
          .load()
          .then(({ queued, batches }) => {
            const running = new Set(batches.flatMap((b) => b.moves.map(moveKey)));
            const inBatches = batches.flatMap((b) => b.moves.map((move) => ({ move, running: true })));
            // A queued move whose file is at its target already is done (the leader drops it from the chunk shortly).
            const waiting = queued.filter((m) => !running.has(moveKey(m)) && index.get(m.uuid)?.node !== m.to).map((move) => ({ move, running: false }));
            engine.projectShared([...inBatches, ...waiting], (uuid) => index.get(uuid)?.node ?? null);
          })
          .catch(() => undefined)
          .finally(() => (busy = false));
      }, QUEUE_VIEW_MS);
      queueViewTimer.unref();
    },
    stop() {
      if (queueViewTimer) clearInterval(queueViewTimer);
      queueViewTimer = null;
    },
  };
  const leaderLoops = {
    async start(): Promise<Record<string, number>> {
      if (control) await alignWithZooKeeper();
      const recovered = control ? await recover() : {};
      if (shared) {
        const fromShared = await recoverShared({ db, storage, shared, engine });
        Object.assign(recovered, Object.fromEntries(Object.entries(fromShared).map(([k, v]) => [`shared_${k}`, v])));
        if (fromShared.rolledBack + fromShared.rolledForward > 0) index.load(filesForPlanning(db));
        tidyTimer = setInterval(() => void tidyShared({ db, storage, shared, engine }).catch(() => undefined), SHARED_TIDY_MS);
        tidyTimer.unref();
      }
      leading = true;
      // The change feed's oldest entries go now and then; followers further behind read everything again.
      feedTimer = setInterval(() => void metadata.pruneFeed(FEED_KEEP).catch(() => undefined), FEED_PRUNE_MS);
      feedTimer.unref();
      engine.start();
      if (opts.migrations?.adaptive) engine.setAdaptive(true);
      scheduler.start();
      storageNodes.start();
      capacity.start();
      if (demo.state().enabled) await demo.start();
      return recovered;
    },
    async stop(): Promise<void> {
      if (!leading) return;
      leading = false;
      if (feedTimer) clearInterval(feedTimer);
      if (tidyTimer) clearInterval(tidyTimer);
      feedTimer = tidyTimer = null;
      shared?.reset();
      scheduler.stop();
      storageNodes.stop();
      capacity.stop();
      await demo.close();
      await engine.stop();
    },
  };
  // Under election, the settings every instance must agree on (see SharedState): the leader writes each when it
  // changes; followers apply them; a new leader starts from them.
  const settings = opts.control ? new SharedState(opts.session, () => control?.fence() ?? null) : null;
  if (settings) {
    settings.register<NodeState[]>('drains', {
      read: () => nodesService.states(),
      apply: (states) => {
        projectNodeStates(db, states);
        events.emit('changed', { kind: 'drain' });
      },
    });
    settings.register<StorageNodeRecord[]>('storage-nodes', { read: () => storageNodes.records(), apply: (rows) => storageNodes.applyShared(rows) });
    settings.register<SchedulerConfig>('scheduler', { read: () => scheduler.getConfig(), apply: (c) => scheduler.applyShared(c) });
    settings.register<ReturnType<MigrationEngine['sharedSettings']>>('migrations', { read: () => engine.sharedSettings(), apply: (v) => engine.applyShared(v) });
    events.on('changed', (e) => {
      if (!control?.isLeader()) return;
      const keys = e.kind === 'drain' ? ['drains'] : e.kind === 'config' ? ['scheduler', 'migrations'] : e.kind === 'lifecycle' ? ['storage-nodes'] : [];
      for (const key of keys) void settings.publish(key).catch(() => undefined);
    });
  }
  const standalone: InstanceInfo = { id: defaultInstanceId(), url: null, startedAt: clock.now().toISOString() };
  const control = opts.control
    ? new ControlPlane(
        { session: opts.session, events, operations, clock },
        {
          lead: () => leaderLoops.start(),
          // Each step retries on its own: a follower whose session was just replaced must still end up following.
          follow: async () => {
            await leaderLoops.stop();
            await settings?.follow();
            await projection!.start();
            queueView.start();
          },
        },
        opts.control,
      )
    : null;

  metrics = new Metrics({
    nodes,
    fileCounts: () => files.counts(),
    drained: () => nodesService.drainedSet(),
    taskCounts: () => workload.taskCounts(),
    plan: currentPlan,
    stats: () => cluster.cached(),
    stores: () => liveness?.list() ?? [],
    ...(control ? { control: () => ({ leader: control.isLeader(), elections: control.elections, takeovers: control.takeovers }) } : {}),
    migrationQueue: () => {
      const st = engine.status();
      return { pending: st.pending, running: st.running, paused: st.paused, failed: st.failed, completed: st.completed, bytesDone: st.bytesDone, rateBytesPerSec: st.rateBytesPerSec };
    },
    loads: () => load.view().nodes.map((n) => ({ node: n.node, score: n.load.score, components: n.load.components })),
    capacity: () => {
      const c = capacity.recommendation();
      return { usedBytes: c.usedBytes, capacityBytes: c.capacityBytes, utilization: c.utilization, upperUtilization: c.upperUtilization, secondsToUpper: c.timeToTargetMs === null ? null : c.timeToTargetMs / 1000 };
    },
    ensemble: () => {
      const roles: Record<string, number> = { participant: 0, observer: 0 };
      for (const st of cluster.cached()) roles[st.mode === 'observer' ? 'observer' : 'participant']! += 1;
      const v = ensemble.configVersion;
      return { roles, configVersion: v === null ? null : Number.parseInt(v, 16) };
    },
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
    currentPlan,
    znodes: new ZnodeExplorer({ session: opts.session, operations }),
    control,
    /** Creates the znode roots; call before serving. (Each agent keeps its own folder and its temp files.) */
    async init() {
      await metadata.init();
      await shared?.init();
      await settings?.init();
      index.load(filesForPlanning(db));
      // A standalone instance recovers before anything moves: finish or undo whatever a crash left mid-migration.
      // Under election, the instance that becomes leader does (leaderLoops.start).
      if (!control) await recover();
      plan = null;
    },
    async start() {
      load.start();
      agentStats.start();
      cluster.start();
      ensemble.start();
      await liveness?.start();
      if (control) await control.start();
      else await leaderLoops.start();
    },
    async stop() {
      if (control) await control.stop();
      projection?.stop();
      settings?.stop();
      queueView.stop();
      await ensemble.stop();
      load.stop();
      agentStats.stop();
      await leaderLoops.stop();
      await demo.close();
      loopDelay.disable();
      liveness?.stop();
      cluster.stop();
      if (replanTimer) clearTimeout(replanTimer);
      if (reconcileTimer) clearTimeout(reconcileTimer);
      events.removeAllListeners();
    },
    /** The instances on this ensemble and who leads; a standalone instance reports itself alone. */
    async controlStatus(): Promise<ControlStatus> {
      if (control) return { ...(await control.status()), fileTree: fileTree() };
      return { instance: standalone, role: 'standalone', leader: null, instances: [], takeovers: [], elections: 1 };
    },
    async health() {
      let database = false;
      try {
        nodesService.states(); // a real read of a real table: proves the file is open and migrated
        database = true;
      } catch {
        database = false;
      }
      const summary = cluster.summary(await cluster.stats());
      return {
        status: database && summary.quorum ? ('ok' as const) : ('degraded' as const),
        database,
        zookeeper: { quorum: summary.quorum, leader: summary.leader, serving: summary.upCount, size: summary.size, session: opts.session.state },
        // This instance's part in the control plane: 'leader' or 'follower' under election, 'standalone' alone.
        control: control ? { role: control.role(), instance: control.instance.id } : { role: 'standalone' as const, instance: null },
        fileTree: fileTree(),
      };
    },
  };
}
