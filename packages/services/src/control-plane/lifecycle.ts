/**
 * This instance's init, start and stop, each step in its order. Under election it also holds what the instance runs
 * around the leader's loops (see LeaderLoops): the projection of ZooKeeper's file metadata while it follows and its
 * checkpoint across a clean stop, the settings every instance shares, and the election itself (ControlPlane).
 * Standalone, none of those exist and the leader's loops run from start to stop. Also what the instance says of
 * itself: its part in the control plane and its health.
 */
import { filesForPlanning, type Db } from '@zkha/db';
import type { ZkSession } from '@zkha/zk';

import type { FileIndex } from '../files/file-index.ts';
import type { FileMetadataRegistry } from '../files/file-metadata.ts';
import { FileProjection, fileTreeState } from '../files/file-projection.ts';
import { alignFilesWithZooKeeper, FeedPruner, ProjectionCheckpoints } from '../files/zk-alignment.ts';
import type { ZkReconciler } from '../files/zk-reconcile.ts';
import type { ClusterMonitor } from '../liveness/cluster-monitor.ts';
import type { LivenessMonitor } from '../liveness/store-liveness.ts';
import type { OperationsService } from '../logs/operations.ts';
import type { Clock } from '../shared/clock.ts';
import type { AppEvents } from '../shared/event-bus.ts';
import { ControlPlane, defaultInstanceId, type ControlOptions, type ControlStatus, type InstanceInfo } from './election.ts';
import { healthReport } from './health.ts';
import { LeaderLoops, type LeaderLoopsDeps, type Loop } from './leader-loops.ts';
import { SharedState } from './shared-state.ts';

/** What the instance starts and stops, wired in container.ts; the leader's loops among them (see LeaderLoopsDeps). */
export interface InstanceLifecycleDeps extends Pick<
  LeaderLoopsDeps,
  'queueView' | 'recover' | 'sharedDuties' | 'engine' | 'adaptive' | 'scheduler' | 'storageNodes' | 'capacity' | 'demo'
> {
  session: ZkSession;
  db: Db;
  index: FileIndex;
  metadata: FileMetadataRegistry;
  operations: OperationsService;
  events: AppEvents;
  clock: Clock;
  /** Under election, the shared migration journal (SharedMigrationJournal), whose znode root init creates. */
  shared: { init(): Promise<void> } | null;
  /** The cached live plan (LivePlan), forgotten once the file index is loaded. */
  livePlan: { invalidate(): void; stop(): void };
  load: Loop;
  agentStats: Loop;
  cluster: ClusterMonitor;
  ensemble: { start(): void; stop(): Promise<void> };
  liveness: LivenessMonitor | null;
  loadSampler: { stop(): void };
  reconciler: ZkReconciler;
  /** A real read of a real table, for the health report (see healthReport). */
  readDatabase: () => void;
  /** This instance's part in a leader election; null: standalone. */
  election: ControlOptions | null;
}

export class InstanceLifecycle {
  /** Under election, this instance's projection of ZooKeeper's file metadata while it follows (see FileProjection). */
  readonly projection: FileProjection | null;
  private readonly checkpoints: ProjectionCheckpoints | null;
  /**
   * Under election, the settings every instance must agree on (see SharedState): the leader writes each when it
   * changes; followers apply them; a new leader starts from them.
   */
  readonly settings: SharedState | null;
  readonly leaderLoops: LeaderLoops;
  private readonly standalone: InstanceInfo;
  /** Under election, this instance's part in it; null when standalone. */
  readonly control: ControlPlane | null;

  constructor(private readonly deps: InstanceLifecycleDeps) {
    const { session, db, index, metadata, operations, events, clock, election } = deps;
    this.projection = election
      ? new FileProjection({
          session,
          db,
          index,
          events,
          onIncomplete: ({ files, kept }) =>
            operations.record({
              action: 'zk_files_trim',
              status: 'skipped',
              details: {
                files,
                kept,
                why: 'the file tree in ZooKeeper is not marked complete (a first publish cut short, or a tree from before the mark): rows it lacks are kept until the leader publishes them',
              },
            }),
        })
      : null;
    const projection = this.projection;
    this.checkpoints = projection ? new ProjectionCheckpoints({ db, metadata, projection, now: () => clock.now() }) : null;
    const feedPruner = new FeedPruner(metadata);
    this.settings = election ? new SharedState(session, () => this.control?.fence() ?? null) : null;
    const { queueView, recover, sharedDuties, engine, adaptive, scheduler, storageNodes, capacity, demo } = deps;
    this.leaderLoops = new LeaderLoops({
      elected: !!election,
      projection,
      settings: this.settings,
      queueView,
      alignFiles: (projection) => alignFilesWithZooKeeper({ session, db, index, metadata, projection, operations }),
      recover,
      sharedDuties,
      feedPruner,
      engine,
      adaptive,
      scheduler,
      storageNodes,
      capacity,
      demo,
    });
    this.standalone = { id: defaultInstanceId(), url: null, startedAt: clock.now().toISOString() };
    this.control = election ? new ControlPlane({ session, events, operations, clock }, this.leaderLoops, election) : null;
  }

  /** Creates the znode roots; call before serving. (Each agent keeps its own folder and its temp files.) */
  async init(): Promise<void> {
    const { metadata, shared, index, db } = this.deps;
    await metadata.init();
    await shared?.init();
    await this.settings?.init();
    this.checkpoints?.restore();
    index.load(filesForPlanning(db));
    // A standalone instance recovers before anything moves: finish or undo whatever a crash left mid-migration.
    // Under election, the instance that becomes leader does (LeaderLoops.lead).
    if (!this.control) await this.deps.recover();
    this.deps.livePlan.invalidate();
  }

  async start(): Promise<void> {
    const { load, agentStats, cluster, ensemble, liveness } = this.deps;
    load.start();
    agentStats.start();
    cluster.start();
    ensemble.start();
    await liveness?.start();
    if (this.control) await this.control.start();
    else await this.leaderLoops.lead();
  }

  async stop(): Promise<void> {
    const { ensemble, load, agentStats, demo, loadSampler, liveness, cluster, livePlan, reconciler, events } = this.deps;
    this.leaderLoops.beginStop();
    await this.checkpoints?.beforeStop(this.leaderLoops.leading);
    if (this.control) await this.control.stop();
    this.projection?.stop();
    this.settings?.stop();
    this.deps.queueView?.stop();
    await ensemble.stop();
    load.stop();
    agentStats.stop();
    await this.leaderLoops.stop();
    await demo.close();
    loadSampler.stop();
    liveness?.stop();
    cluster.stop();
    livePlan.stop();
    reconciler.stop();
    this.checkpoints?.save();
    events.removeAllListeners();
  }

  /** The instances on this ensemble and who leads; a standalone instance reports itself alone. */
  async controlStatus(): Promise<ControlStatus> {
    if (this.control) return { ...(await this.control.status()), fileTree: fileTreeState(this.projection) };
    return { instance: this.standalone, role: 'standalone', leader: null, instances: [], takeovers: [], elections: 1 };
  }

  /** What /healthz says (see healthReport). */
  health(): ReturnType<typeof healthReport> {
    const { readDatabase, cluster, session } = this.deps;
    return healthReport({ readDatabase, cluster, session, control: this.control, fileTree: () => fileTreeState(this.projection) });
  }
}
