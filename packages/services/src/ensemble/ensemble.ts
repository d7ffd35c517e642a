/**
 * The ZooKeeper ensemble as something an operator can grow, shrink and restart: membership (read from
 * /zookeeper/config and every server's `conf`), guarded membership changes on the embedded default,
 * rolling restarts, load-based scaling recommendations and an opt-in automatic mode.
 *
 * What it leans on: @zkha/zk does the ZooKeeper work (reconfig over the wire, start and stop of the
 * JVMs, sync checks), @zkha/core the pure rules (guards, restart order, load score, scaling policy).
 * This service adds what the product needs around them: one change at a time, an operation recorded
 * for each change with the membership before and after, zkha's own clients moved to the new server
 * list (session, cluster monitor, node control), the membership saved for the next start, and live
 * events for the UI.
 */
import { EventEmitter } from 'node:events';

import type { ScalingPolicy, ServerRole } from '@zkha/core';
import type { ZkSession } from '@zkha/zk';
import type { EnsembleNodeSpec, LocalEnsemble } from '@zkha/zk-local';

import type { ClusterMonitor, EnsembleMember } from '../liveness/cluster-monitor.ts';
import type { OperationsService } from '../logs/operations.ts';
import type { Clock } from '../shared/clock.ts';
import { EnsembleAutoscaler, type ScalingRecommendationsView } from './autoscaling.ts';
import type { LoadMonitor } from './load-monitor.ts';
import {
  EnsembleMembershipService,
  type ChangeCause,
  type EnsembleChangePlan,
  type EnsembleChangeResult,
  type EnsembleDriver,
  type EnsembleMembership,
} from './membership.ts';
import type { PortAllocator } from './ports.ts';
import { RollingRestartService, type RollingRestartAnswer, type RollingRestartJob } from './rolling-restart.ts';

export interface EnsembleServiceEvents {
  membership: [EnsembleMembership];
  rollingRestart: [RollingRestartJob];
}

export interface EnsembleServiceConfig {
  policy?: Partial<ScalingPolicy>;
  /** How often the automatic mode looks at the recommendation. Default 15 s. */
  evaluateIntervalMs?: number;
  /** How often the committed config version is checked for changes made elsewhere. Default 5 s. */
  watchIntervalMs?: number;
  /** Upper bound for each wait of a change (join, sync). Default 60 s. */
  changeTimeoutMs?: number;
}

export interface EnsembleServiceDeps {
  session: ZkSession;
  /** Whether this instance may act on its own (it leads, or runs alone): the automatic mode acts only then. */
  mayAct?: () => boolean;
  cluster: ClusterMonitor;
  operations: OperationsService;
  clock: Clock;
  load: LoadMonitor;
  /** The embedded ensemble's launcher; null when zkha does not run the servers. */
  local: LocalEnsemble | null;
  driver: EnsembleDriver;
  /** Restarts one server for a rolling restart (node control: the process or docker driver); null where zkha cannot. */
  restartServer: ((node: string) => Promise<void>) | null;
  /** Ports for a new server (default: free ephemeral ports). */
  allocatePorts?: PortAllocator;
  /** Tells the rest of zkha about the new member list (cluster monitor, node control, node cards). */
  onMembers: (members: EnsembleMember[]) => void;
  /** Saves the membership for the next start (membership.json next to the data). */
  persist?: ((nodes: readonly EnsembleNodeSpec[]) => void) | null;
  /** Names a new server must not take (storage nodes, which the node cards share names with). */
  reservedNames?: () => readonly string[];
  /** Keeps the policy set through the API across restarts (the database); it wins over the configured defaults. */
  policyStore?: { load(): Partial<ScalingPolicy> | null; save(policy: ScalingPolicy): void } | null;
}

/**
 * The ensemble service the API and the UI see: membership (membership.ts), rolling restarts (rolling-restart.ts)
 * and load-based scaling (autoscaling.ts), composed here behind one face with one stream of live events.
 */
export class EnsembleService extends EventEmitter<EnsembleServiceEvents> {
  private readonly members: EnsembleMembershipService;
  private readonly restarts: RollingRestartService;
  private readonly scaling: EnsembleAutoscaler;

  constructor(
    private readonly deps: EnsembleServiceDeps,
    config: EnsembleServiceConfig = {},
  ) {
    super();
    this.setMaxListeners(0);
    const { session, cluster, operations, clock, load, local, driver } = deps;
    this.members = new EnsembleMembershipService(
      {
        session,
        cluster,
        operations,
        clock,
        load,
        local,
        driver,
        ...(deps.allocatePorts ? { allocatePorts: deps.allocatePorts } : {}),
        onMembers: deps.onMembers,
        persist: deps.persist ?? null,
        ...(deps.reservedNames ? { reservedNames: deps.reservedNames } : {}),
        guard: () => this.scaling.guard(),
        announced: (m) => this.emit('membership', m),
      },
      { changeTimeoutMs: config.changeTimeoutMs, watchIntervalMs: config.watchIntervalMs },
    );
    this.restarts = new RollingRestartService(
      {
        membership: this.members,
        operations,
        clock,
        driver,
        restartServer: deps.restartServer,
        published: (job) => this.emit('rollingRestart', job),
      },
      { changeTimeoutMs: config.changeTimeoutMs },
    );
    this.scaling = new EnsembleAutoscaler(
      {
        membership: this.members,
        cluster,
        operations,
        clock,
        load,
        local,
        mayAct: deps.mayAct,
        reservedNames: deps.reservedNames,
        policyStore: deps.policyStore,
      },
      { policy: config.policy, evaluateIntervalMs: config.evaluateIntervalMs },
    );
  }

  /** The committed dynamic config version last seen (ZooKeeper's hex string); null before the first look. */
  get configVersion(): string | null {
    return this.members.configVersion;
  }

  get driver(): EnsembleDriver {
    return this.deps.driver;
  }

  membership(): Promise<EnsembleMembership> {
    return this.members.membership();
  }

  planChange(input: { action: 'add' | 'remove'; node?: string | undefined; role?: ServerRole | undefined }): Promise<EnsembleChangePlan> {
    return this.members.planChange(input);
  }

  addServer(input: { role: ServerRole; confirm: boolean }, cause?: ChangeCause): Promise<EnsembleChangeResult> {
    return this.members.addServer(input, cause);
  }

  removeServer(input: { node: string; confirm: boolean }, cause?: ChangeCause): Promise<EnsembleChangeResult> {
    return this.members.removeServer(input, cause);
  }

  rollingRestart(input: { dryRun: boolean }): Promise<RollingRestartAnswer> {
    return this.restarts.run(input);
  }

  rollingRestartStatus(): RollingRestartJob | null {
    return this.restarts.status();
  }

  waitRollingRestart(timeoutMs?: number): Promise<RollingRestartJob | null> {
    return this.restarts.wait(timeoutMs);
  }

  load() {
    return this.deps.load.view();
  }

  loadHistory(opts: { minutes?: number; node?: string | undefined }) {
    return this.deps.load.history({
      ...(opts.minutes !== undefined ? { minutes: opts.minutes } : {}),
      ...(opts.node ? { node: opts.node } : {}),
    });
  }

  policy(): ScalingPolicy {
    return this.scaling.policy();
  }

  setPolicy(next: ScalingPolicy): ScalingPolicy {
    return this.scaling.setPolicy(next);
  }

  recommendations(): ScalingRecommendationsView {
    return this.scaling.recommendations();
  }

  evaluate(): Promise<ScalingRecommendationsView> {
    return this.scaling.evaluate();
  }

  /** Watches the committed config version (changes made elsewhere too) and runs the automatic mode's loop. */
  start(): void {
    this.scaling.start();
    this.members.start();
  }

  async stop(): Promise<void> {
    this.scaling.stop();
    this.members.stop();
    // A restart in flight would leave a server down if the process went away mid-step: let it finish.
    await this.restarts.wait(120_000);
    this.removeAllListeners();
  }
}
