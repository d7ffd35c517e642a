/**
 * The background loops only the leader runs (a standalone instance always does): the migration engine's pump
 * and recovery, the automatic scheduler, the node lifecycle, the capacity sampler and the demo workload. The
 * scaling policy asks control.isLeader() itself (EnsembleService.evaluate). Under election these are the control
 * plane's hooks (see ControlHooks): a new leader first makes its database say what ZooKeeper says, and a demoted one
 * goes back to following the leader.
 */
import type { FileProjection } from '../files/file-projection.ts';
import type { FeedPruner } from '../files/zk-alignment.ts';
import type { ControlHooks } from './election.ts';
import type { SharedState } from './shared-state.ts';

/** A loop started and stopped with the instance or its lead (services of later domains are ports here: see .dependency-cruiser.cjs). */
export interface Loop {
  start(): void;
  stop(): void;
}

/** What the leader's loops are made of (built in InstanceLifecycle from what container.ts wires). */
export interface LeaderLoopsDeps {
  /** Whether this instance takes part in a leader election (false: standalone, always leading). */
  elected: boolean;
  /** Under election, this instance's projection of ZooKeeper's file metadata while it follows (see FileProjection). */
  projection: FileProjection | null;
  /** Under election, the settings every instance must agree on (see SharedState). */
  settings: SharedState | null;
  /** Under election, a follower's view of the leader's migration queue (SharedQueueView). */
  queueView: Loop | null;
  /** Before a new leader acts, its database says what ZooKeeper says (alignFilesWithZooKeeper). */
  alignFiles: (projection: FileProjection) => Promise<void>;
  /** Finishes or undoes whatever a crash left mid-migration; resolves with what it found. */
  recover: () => Promise<Record<string, number>>;
  /** Under election, a new leader's part of the shared migration journal (SharedJournalDuties). */
  sharedDuties: { start(): Promise<Record<string, number>>; stop(): void } | null;
  feedPruner: FeedPruner;
  engine: { start(): void; setAdaptive(enabled: boolean): unknown; stop(): Promise<void> };
  /** Whether the migration caps start adaptive (ServicesOptions.migrations.adaptive), asked at each lead. */
  adaptive: () => boolean;
  scheduler: Loop;
  storageNodes: Loop;
  capacity: Loop;
  demo: { state(): { enabled: boolean }; start(): Promise<unknown>; close(): Promise<void> };
}

export class LeaderLoops implements ControlHooks {
  private leadingNow = false;
  private stopping = false;

  constructor(private readonly deps: LeaderLoopsDeps) {}

  /** Whether the loops run (this instance leads, or stands alone); false again once they stop. */
  get leading(): boolean {
    return this.leadingNow;
  }

  /** Takes the lead: catches up with ZooKeeper (under election), recovers, then starts the loops. */
  async lead(): Promise<Record<string, number>> {
    const { projection, settings, queueView, sharedDuties, engine, demo } = this.deps;
    if (this.deps.elected && projection) {
      queueView?.stop();
      projection.stop();
      await settings?.load();
      await this.deps.alignFiles(projection);
    }
    const recovered = this.deps.elected ? await this.deps.recover() : {};
    if (sharedDuties) Object.assign(recovered, await sharedDuties.start());
    this.leadingNow = true;
    this.deps.feedPruner.start();
    engine.start();
    if (this.deps.adaptive()) engine.setAdaptive(true);
    this.deps.scheduler.start();
    this.deps.storageNodes.start();
    this.deps.capacity.start();
    if (demo.state().enabled) await demo.start();
    return recovered;
  }

  /**
   * No longer leader (or stopping): stops the loops, then follows the leader (its shared settings, its file metadata,
   * its queue). Each step retries on its own: a follower whose session was just replaced must still end up following.
   */
  async follow(): Promise<void> {
    await this.stop();
    // A stop demotes this instance too: its loops end, and nothing starts following (a full read of the
    // tree while shutting down).
    if (this.stopping) return;
    await this.deps.settings?.follow();
    await this.deps.projection!.start();
    this.deps.queueView?.start();
  }

  /** Stops the loops (nothing when they do not run). */
  async stop(): Promise<void> {
    if (!this.leadingNow) return;
    this.leadingNow = false;
    this.deps.feedPruner.stop();
    this.deps.sharedDuties?.stop();
    this.deps.scheduler.stop();
    this.deps.storageNodes.stop();
    this.deps.capacity.stop();
    await this.deps.demo.close();
    await this.deps.engine.stop();
  }

  /** The instance is stopping: a demotion from now on ends the loops and starts nothing. */
  beginStop(): void {
    this.stopping = true;
  }
}
