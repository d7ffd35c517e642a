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

import {
  AppError,
  checkMembershipChange,
  DEFAULT_SCALING_POLICY,
  quorumFigures,
  recommendScaling,
  rollingRestartOrder,
  scalingPolicyProblems,
  type MembershipChangeCheck,
  type QuorumFigures,
  type ScalingPolicy,
  type ScalingRecommendation,
  type ServerRole,
  type ZkMode,
} from '@zkha/core';
import {
  addServer as zkAddServer,
  memberTargets,
  probeSync,
  readConfig,
  readMembership,
  removeServer as zkRemoveServer,
  rollingRestart as zkRollingRestart,
  type DynamicConfig,
  type EnsembleNodeSpec,
  type LocalEnsemble,
  type MemberTarget,
  type MembershipChangeResult,
  type RollingRestartEvent,
  type ZkSession,
} from '@zkha/zk';

import type { ClusterMonitor, EnsembleMember } from '../liveness/cluster-monitor.ts';
import type { Clock } from '../shared/clock.ts';
import { freePortAllocator, type PortAllocator } from './ports.ts';
import type { LoadMonitor } from './load-monitor.ts';
import type { OperationsService } from '../logs/operations.ts';

/** How the ensemble's servers run, which decides what zkha may do to them. */
export type EnsembleDriver = 'process' | 'docker' | 'external';

export interface EnsembleServerInfo {
  name: string;
  /** Server id; null for a server that is not in the committed config (joining, or left behind). */
  id: number | null;
  /** Role in the committed config; null when not a member. */
  role: ServerRole | null;
  host: string;
  port: number;
  reachable: boolean;
  mode: ZkMode;
  /** The config version this server holds (`conf`). */
  configVersion: string | null;
  /** Holds exactly the committed config. */
  agrees: boolean;
  difference: string | null;
  error: string | null;
  /** Whether zkha runs its process (embedded default) and it is running; null when zkha does not run it. */
  running: boolean | null;
}

export interface EnsembleMembership {
  driver: EnsembleDriver;
  /** Whether servers can be added and removed here (the embedded default only). */
  changesSupported: boolean;
  changesUnsupportedReason: string | null;
  /** Committed config version (hex, as ZooKeeper prints it). */
  version: string;
  voters: string[];
  observers: string[];
  quorum: QuorumFigures;
  leader: string | null;
  servers: EnsembleServerInfo[];
  /** Servers whose own view (`conf`) differs from the committed config, or that did not answer. */
  divergent: { name: string; difference: string }[];
  /** The server list zkha's own session uses. */
  connectionString: string;
  /** A membership change or rolling restart in progress. */
  busy: { kind: 'add' | 'remove' | 'rolling_restart'; since: string; node: string | null } | null;
  readAt: string;
}

export interface MembershipSnapshot {
  version: string;
  voters: string[];
  observers: string[];
  quorum: QuorumFigures;
}

export interface EnsembleChangePlan {
  action: 'add' | 'remove';
  /** The server: the name a new one would get, or the one to remove. */
  node: string;
  id: number;
  role: ServerRole;
  supported: boolean;
  unsupportedReason: string | null;
  /** The guards' verdict: quorum before and after, allowed, needs confirmation, problems, warnings, summary. */
  check: MembershipChangeCheck;
  guard: { minVoters: number; maxVoters: number };
  /** Whether the mutation would run now with `confirm` as given (false: refused or needs confirmation). */
  wouldRun: { withoutConfirm: boolean; withConfirm: boolean };
}

export type ChangeCause = { kind: 'operator' } | { kind: 'auto'; recommendation: string };

export interface EnsembleChangeResult {
  operationId: number;
  action: 'add' | 'remove';
  node: string;
  id: number;
  role: ServerRole;
  cause: 'operator' | 'auto';
  check: MembershipChangeCheck;
  before: MembershipSnapshot;
  after: MembershipSnapshot;
  leader: string | null;
  timings: { joinMs: number; reconfigMs: number; syncMs: number; reconnectMs: number; totalMs: number };
  /** zkha's session's server list after the change. */
  connectionString: string;
  /** Set when zkha's own session could not move to the new server list (the change itself is done). */
  reconnectError: string | null;
}

export type RollingRestartPhase = 'pending' | 'restarting' | 'syncing' | 'done' | 'failed';

export interface RollingRestartPlanStep {
  node: string;
  role: ServerRole;
  mode: ZkMode;
  /** Why it is at this place in the order. */
  reason: string;
}

export interface RollingRestartPlan {
  order: RollingRestartPlanStep[];
  leader: string | null;
  /** A rolling restart only starts from an ensemble in sync. */
  ready: boolean;
  notReadyReason: string | null;
  supported: boolean;
  unsupportedReason: string | null;
}

export interface RollingRestartStepView extends RollingRestartPlanStep {
  phase: RollingRestartPhase;
  startedAt: string | null;
  /** ms for the server's process to be back (restart returned). */
  restartMs: number | null;
  /** ms waited after that until the ensemble was in sync again (while syncing: so far). */
  waitedMs: number | null;
  inSync: boolean;
  leaderAfter: string | null;
}

export interface RollingRestartJob {
  id: string;
  status: 'running' | 'succeeded' | 'failed';
  startedAt: string;
  finishedAt: string | null;
  leaderBefore: string | null;
  leaderAfter: string | null;
  steps: RollingRestartStepView[];
  totalMs: number | null;
  error: string | null;
  operationId: number | null;
}

export interface RollingRestartAnswer {
  dryRun: boolean;
  plan: RollingRestartPlan;
  /** The job started (null on a dry run). */
  job: RollingRestartJob | null;
}

export interface ScalingRecommendationsView {
  policy: ScalingPolicy;
  recommendation: ScalingRecommendation;
  /** Whether the automatic mode would apply it now. */
  actionable: boolean;
  voters: number;
  lastAutoAction: { at: string; action: 'scale_up' | 'scale_down'; status: 'success' | 'failed'; operationId: number | null; message: string } | null;
  changesSupported: boolean;
}

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

const ROLE_REASON: Record<'observer' | 'follower' | 'leader', string> = {
  observer: 'observer: carries no vote, restarted first',
  follower: 'follower: restarted before the leader, one at a time, each back in sync before the next',
  leader: 'leader last: the ensemble elects a new leader once, among servers already restarted',
};

export class EnsembleService extends EventEmitter<EnsembleServiceEvents> {
  private busy: EnsembleMembership['busy'] = null;
  private job: RollingRestartJob | null = null;
  private policyValue: ScalingPolicy;
  private lastAuto: ScalingRecommendationsView['lastAutoAction'] = null;
  private lastAutoAt: number | null = null;
  private evaluateTimer: NodeJS.Timeout | null = null;
  private watchTimer: NodeJS.Timeout | null = null;
  private knownVersion: string | null = null;

  /** The committed dynamic config version last seen (ZooKeeper's hex string); null before the first look. */
  get configVersion(): string | null {
    return this.knownVersion;
  }
  private stopped = false;
  private readonly allocatePorts: PortAllocator;

  constructor(
    private readonly deps: EnsembleServiceDeps,
    private readonly config: EnsembleServiceConfig = {},
  ) {
    super();
    this.setMaxListeners(0);
    const stored = deps.policyStore?.load() ?? null;
    const merged = { ...DEFAULT_SCALING_POLICY, ...config.policy, ...stored };
    // A stored policy that no longer makes sense with the configured defaults falls back to them.
    this.policyValue = scalingPolicyProblems(merged).length === 0 ? merged : { ...DEFAULT_SCALING_POLICY, ...config.policy };
    this.allocatePorts = deps.allocatePorts ?? freePortAllocator(deps.local?.host ?? '127.0.0.1');
  }

  get driver(): EnsembleDriver {
    return this.deps.driver;
  }

  private get changesUnsupportedReason(): string | null {
    if (this.deps.driver === 'process' && this.deps.local) {
      return this.deps.local.reconfigEnabled ? null : 'the embedded ensemble runs without dynamic reconfiguration (a one-node ensemble): it cannot change membership while serving';
    }
    if (this.deps.driver === 'docker') {
      return 'adding and removing servers is supported on the embedded default only: on the compose deployment, add the service to docker-compose.yml and run `reconfig -add` with the ZooKeeper CLI';
    }
    return 'adding and removing servers is supported on the embedded default only: zkha does not run the servers of an external ensemble (ZK_NODES)';
  }

  private guard(): { minVoters: number; maxVoters: number } {
    return { minVoters: this.policyValue.minVoters, maxVoters: this.policyValue.maxVoters };
  }

  // -------------------------------------------------------------------------------------------
  // Membership

  /** id → our name: the launcher's names, else the cluster monitor's members matched by client address. */
  private names(config: DynamicConfig): Map<number, string> {
    const names = new Map<number, string>();
    if (this.deps.local) for (const n of this.deps.local.nodes) names.set(n.id, n.name);
    const byAddress = new Map(this.deps.cluster.members.map((m) => [`${m.host}:${m.port}`, m.name]));
    const byPort = new Map(this.deps.cluster.members.map((m) => [m.port, m.name]));
    for (const t of memberTargets(config)) {
      if (names.has(t.id)) continue;
      const name = byAddress.get(`${t.host}:${t.port}`) ?? byPort.get(t.port);
      if (name) names.set(t.id, name);
    }
    return names;
  }

  private async committed(): Promise<DynamicConfig> {
    return readConfig(this.deps.session.client);
  }

  async membership(): Promise<EnsembleMembership> {
    const config = await this.committed();
    const readAt = this.deps.clock.now().toISOString();
    const base = {
      driver: this.deps.driver,
      changesSupported: this.changesUnsupportedReason === null,
      changesUnsupportedReason: this.changesUnsupportedReason,
      connectionString: this.deps.session.connectionString,
      busy: this.busy,
      readAt,
    };
    if (config.servers.length === 0) {
      // A pre-3.5 server or a config without membership: fall back to what the probes say.
      const stats = await this.deps.cluster.stats();
      const leader = this.deps.cluster.summary(stats).leader;
      const servers: EnsembleServerInfo[] = stats.map((s) => ({
        name: s.node,
        id: null,
        role: s.mode === 'observer' ? 'observer' : 'participant',
        host: s.host,
        port: s.port,
        reachable: s.reachable,
        mode: s.mode,
        configVersion: null,
        agrees: true,
        difference: null,
        error: s.error,
        running: this.running(s.node),
      }));
      return {
        ...base,
        version: config.version,
        voters: servers.filter((s) => s.role === 'participant').map((s) => s.name),
        observers: servers.filter((s) => s.role === 'observer').map((s) => s.name),
        quorum: quorumFigures(servers.map((s) => ({ role: s.role ?? 'participant' }))),
        leader,
        servers,
        divergent: [],
      };
    }
    const names = this.names(config);
    const members = new Set(config.servers.map((s) => s.id));
    // Servers the launcher runs that are not in the config (joining, or left behind by a failed change).
    const extra = (this.deps.local?.nodes ?? []).filter((n) => !members.has(n.id)).map((n) => ({ name: n.name, host: this.deps.local!.host, port: n.clientPort }));
    const view = await readMembership(this.deps.session.client, { names, extra, timeoutMs: 1500 });
    const servers: EnsembleServerInfo[] = view.servers.map((s) => ({
      name: s.name,
      id: s.id,
      role: s.role,
      host: s.host,
      port: s.port,
      reachable: s.reachable,
      mode: s.mode,
      configVersion: s.configVersion,
      agrees: s.agrees,
      difference: s.difference,
      error: s.error,
      running: this.running(s.name),
    }));
    return {
      ...base,
      version: view.version,
      voters: view.voters.map((v) => v.name),
      observers: view.observers.map((v) => v.name),
      quorum: view.quorum,
      leader: view.leader,
      servers,
      divergent: view.divergent.map((d) => ({ name: d.name, difference: d.difference ?? d.error ?? 'differs' })),
    };
  }

  private running(name: string): boolean | null {
    const local = this.deps.local;
    if (!local || !local.nodes.some((n) => n.name === name)) return null;
    return local.isRunning(name);
  }

  private snapshot(config: DynamicConfig): MembershipSnapshot {
    const names = this.names(config);
    const targets = memberTargets(config, names);
    return {
      version: config.version,
      voters: targets.filter((t) => t.role === 'participant').map((t) => t.name),
      observers: targets.filter((t) => t.role === 'observer').map((t) => t.name),
      quorum: quorumFigures(config.servers),
    };
  }

  /** Guard input: the committed members with who is up and who leads, probed now. */
  private async memberStates(config: DynamicConfig): Promise<{ states: { id: number; role: ServerRole; up: boolean; leader: boolean }[]; targets: MemberTarget[] }> {
    const targets = memberTargets(config, this.names(config));
    const sync = await probeSync(targets);
    const states = config.servers.map((s, i) => {
      const st = sync.servers[i];
      return { id: s.id, role: s.role, up: st?.up ?? false, leader: sync.leader !== null && st?.name === sync.leader };
    });
    return { states, targets };
  }

  /** The id and name a new server would get: one above every id in use, named zk<id> (or zk<id>-2... when taken). */
  private nextServer(config: DynamicConfig): { id: number; name: string } {
    const ids = [...config.servers.map((s) => s.id), ...(this.deps.local?.nodes.map((n) => n.id) ?? [])];
    const id = Math.max(0, ...ids) + 1;
    const taken = new Set([...(this.deps.local?.nodes.map((n) => n.name) ?? []), ...this.deps.cluster.members.map((m) => m.name), ...(this.deps.reservedNames?.() ?? [])]);
    let name = `zk${id}`;
    for (let i = 2; taken.has(name); i++) name = `zk${id}-${i}`;
    return { id, name };
  }

  /** What a change would do (guards with quorum before and after), touching nothing. */
  async planChange(input: { action: 'add' | 'remove'; node?: string | undefined; role?: ServerRole | undefined }): Promise<EnsembleChangePlan> {
    const config = await this.committed();
    const { states, targets } = await this.memberStates(config);
    let node: string;
    let id: number;
    let role: ServerRole;
    let check: MembershipChangeCheck;
    if (input.action === 'add') {
      const next = this.nextServer(config);
      node = next.name;
      id = next.id;
      role = input.role ?? 'participant';
      check = checkMembershipChange(states, { add: [{ id, role }] }, this.guard());
    } else {
      const target = targets.find((t) => t.name === input.node);
      if (!target) {
        throw new AppError('NODE_NOT_FOUND', `"${input.node ?? ''}" is not a member of the ensemble (members: ${targets.map((t) => t.name).join(', ')})`, {
          node: input.node ?? null,
        });
      }
      node = target.name;
      id = target.id;
      role = target.role;
      check = checkMembershipChange(states, { remove: [id] }, this.guard());
      if ((this.deps.reservedNames?.() ?? []).includes(node)) {
        // Its storage agent holds a session on this one server only (so that liveness means "this node").
        check.warnings.push(
          `${node} is also storage node ${node}: its agent's session uses only ${node}'s server, so the storage node shows OFFLINE once ` +
            `the server is gone, until zkha restarts (its agent then uses the whole ensemble) or the storage node is decommissioned`,
        );
      }
    }
    const unsupportedReason = this.changesUnsupportedReason;
    return {
      action: input.action,
      node,
      id,
      role,
      supported: unsupportedReason === null,
      unsupportedReason,
      check,
      guard: this.guard(),
      wouldRun: {
        withoutConfirm: unsupportedReason === null && check.allowed && !check.needsConfirmation,
        withConfirm: unsupportedReason === null && check.allowed,
      },
    };
  }

  private assertChangesSupported(): LocalEnsemble {
    const reason = this.changesUnsupportedReason;
    if (reason !== null || !this.deps.local) throw new AppError('NOT_SUPPORTED', reason ?? 'membership changes are not supported here', { driver: this.deps.driver });
    return this.deps.local;
  }

  /** One change or restart at a time: a second one while the first runs is refused (CONFLICT). */
  private take(kind: NonNullable<EnsembleMembership['busy']>['kind'], node: string | null): () => void {
    if (this.busy) {
      throw new AppError(
        'CONFLICT',
        `another ensemble change is in progress (${this.busy.kind.replace('_', ' ')}${this.busy.node ? ` of ${this.busy.node}` : ''} since ${this.busy.since}): wait for it to finish`,
        { busy: this.busy },
      );
    }
    this.busy = { kind, since: this.deps.clock.now().toISOString(), node };
    return () => {
      this.busy = null;
    };
  }

  /** Adds a server (embedded default): start its JVM, `reconfig -add`, wait in sync, move zkha's clients. */
  async addServer(input: { role: ServerRole; confirm: boolean }, cause: ChangeCause = { kind: 'operator' }): Promise<EnsembleChangeResult> {
    const local = this.assertChangesSupported();
    const release = this.take('add', null);
    try {
      const config = await this.committed();
      const { id, name } = this.nextServer(config);
      if (this.busy) this.busy.node = name;
      const before = this.snapshot(config);
      const spec: EnsembleNodeSpec = { name, id, role: input.role, ...(await this.allocatePorts(id)) };
      return await this.change('add', name, id, input.role, before, cause, () =>
        zkAddServer(local, spec, { confirmed: input.confirm, guard: this.guard(), timeoutMs: this.config.changeTimeoutMs ?? 60_000 }),
      );
    } finally {
      release();
    }
  }

  /** Removes a server (embedded default): `reconfig -remove`, stop its JVM, wait in sync, move zkha's clients. */
  async removeServer(input: { node: string; confirm: boolean }, cause: ChangeCause = { kind: 'operator' }): Promise<EnsembleChangeResult> {
    const local = this.assertChangesSupported();
    const release = this.take('remove', input.node);
    try {
      const config = await this.committed();
      const spec = local.nodes.find((n) => n.name === input.node);
      const member = spec ? config.servers.find((s) => s.id === spec.id) : undefined;
      if (!spec || !member) {
        const names = memberTargets(config, this.names(config)).map((t) => t.name);
        throw new AppError('NODE_NOT_FOUND', `"${input.node}" is not a member of the ensemble (members: ${names.join(', ')})`, { node: input.node });
      }
      const before = this.snapshot(config);
      return await this.change('remove', spec.name, spec.id, member.role, before, cause, () =>
        zkRemoveServer(local, spec.name, { confirmed: input.confirm, guard: this.guard(), deleteData: true, timeoutMs: this.config.changeTimeoutMs ?? 60_000 }),
      );
    } finally {
      release();
    }
  }

  private async change(
    action: 'add' | 'remove',
    node: string,
    id: number,
    role: ServerRole,
    before: MembershipSnapshot,
    cause: ChangeCause,
    run: () => Promise<MembershipChangeResult>,
  ): Promise<EnsembleChangeResult> {
    const opAction = action === 'add' ? 'ensemble_add_server' : 'ensemble_remove_server';
    const causeDetails = cause.kind === 'auto' ? { cause: 'auto', recommendation: cause.recommendation } : { cause: 'operator' };
    let result: MembershipChangeResult;
    try {
      result = await run();
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      // A refusal by the guards is an answer, not a failed operation: only record attempts that ran.
      const refused = err instanceof AppError && (err.code === 'CONFLICT' || err.code === 'BAD_INPUT') && /refused|needs confirmation/.test(message);
      if (!refused) {
        this.deps.operations.record({ action: opAction, node, status: 'failed', details: { ...causeDetails, id, role, error: message }, beforeMetrics: { membership: before }, afterMetrics: null });
        // Whatever happened, follow what the launcher now runs.
        await this.followMembership().catch(() => undefined);
      }
      throw err;
    }
    if (action === 'remove') this.deps.load.forget(node);
    const follow = await this.followMembership();
    const after = this.snapshot(result.after);
    const timings = { ...result.timings, reconnectMs: follow.reconnectMs, totalMs: result.timings.totalMs + follow.reconnectMs };
    const op = this.deps.operations.record({
      action: opAction,
      node,
      status: 'success',
      details: {
        ...causeDetails,
        id,
        role,
        summary: result.check.summary,
        warnings: result.check.warnings,
        leader: result.leader,
        timings,
        connectionString: this.deps.session.connectionString,
        reconnectError: follow.error,
      },
      beforeMetrics: { membership: before },
      afterMetrics: { membership: after },
    });
    void this.announce();
    return {
      operationId: op.id,
      action,
      node,
      id,
      role,
      cause: cause.kind,
      check: result.check,
      before,
      after,
      leader: result.leader,
      timings,
      connectionString: this.deps.session.connectionString,
      reconnectError: follow.error,
    };
  }

  /**
   * Moves zkha to the launcher's current server list: cluster monitor and node control (onMembers),
   * the saved membership, and the session (a new session on the new list: node-zookeeper-client cannot
   * change a live client's servers).
   */
  private async followMembership(): Promise<{ reconnectMs: number; error: string | null }> {
    const local = this.deps.local;
    if (!local) return { reconnectMs: 0, error: null };
    const members = local.nodes.map((n) => ({ name: n.name, host: local.host, port: n.clientPort }));
    this.deps.onMembers(members);
    this.deps.persist?.(local.nodes);
    const started = Date.now();
    let error: string | null = null;
    const connectionString = local.connectionString;
    if (connectionString !== this.deps.session.connectionString) {
      try {
        await this.deps.session.reconnect(connectionString);
      } catch (err) {
        error = `zkha's session could not move to ${connectionString}: ${err instanceof Error ? err.message : String(err)}`;
      }
    }
    void this.deps.cluster.refresh().catch(() => undefined);
    return { reconnectMs: Date.now() - started, error };
  }

  /** Emits the membership to live subscribers (after a change, or when the config version moved). */
  private async announce(): Promise<EnsembleMembership | null> {
    try {
      const m = await this.membership();
      this.knownVersion = m.version;
      this.emit('membership', m);
      return m;
    } catch {
      return null;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Rolling restart

  private rollingUnsupportedReason(): string | null {
    if (this.deps.restartServer) return null;
    return this.deps.driver === 'external'
      ? 'zkha cannot restart the servers of an external ensemble (ZK_NODES): restart them where they run'
      : 'node control is disabled: set DOCKER_CONTROL_ENABLED=true for the docker deployment';
  }

  private async planRollingRestart(): Promise<{ plan: RollingRestartPlan; targets: MemberTarget[] }> {
    const config = await this.committed();
    const targets = memberTargets(config, this.names(config));
    const sync = await probeSync(targets);
    const candidates = targets.map((t) => ({ ...t, mode: sync.servers.find((s) => s.name === t.name)?.mode ?? ('unknown' as ZkMode) }));
    const order = rollingRestartOrder(candidates).map((c) => ({
      node: c.name,
      role: c.role,
      mode: c.mode,
      reason: c.mode === 'leader' ? ROLE_REASON.leader : c.role === 'observer' || c.mode === 'observer' ? ROLE_REASON.observer : ROLE_REASON.follower,
    }));
    const unsupportedReason = this.rollingUnsupportedReason();
    return {
      plan: { order, leader: sync.leader, ready: sync.inSync, notReadyReason: sync.reason, supported: unsupportedReason === null, unsupportedReason },
      targets,
    };
  }

  /** Dry run (default): the plan. Otherwise starts a job (CONFLICT while another change or restart runs) and returns it running. */
  async rollingRestart(input: { dryRun: boolean }): Promise<RollingRestartAnswer> {
    const { plan, targets } = await this.planRollingRestart();
    if (input.dryRun) return { dryRun: true, plan, job: null };
    if (!plan.supported || !this.deps.restartServer) throw new AppError('NOT_SUPPORTED', plan.unsupportedReason ?? 'rolling restart is not supported here');
    if (!plan.ready) throw new AppError('NO_QUORUM', `rolling restart refused: the ensemble is not in sync (${plan.notReadyReason ?? '?'})`);
    const release = this.take('rolling_restart', null);
    const restart = this.deps.restartServer;
    const now = this.deps.clock.now();
    const job: RollingRestartJob = {
      id: `rr-${now.getTime().toString(36)}`,
      status: 'running',
      startedAt: now.toISOString(),
      finishedAt: null,
      leaderBefore: plan.leader,
      leaderAfter: null,
      steps: plan.order.map((s) => ({ ...s, phase: 'pending', startedAt: null, restartMs: null, waitedMs: null, inSync: false, leaderAfter: null })),
      totalMs: null,
      error: null,
      operationId: null,
    };
    this.job = job;
    this.publishJob();
    void this.runRollingRestart(job, targets, restart).finally(release);
    return { dryRun: false, plan, job: structuredClone(job) };
  }

  rollingRestartStatus(): RollingRestartJob | null {
    return this.job ? structuredClone(this.job) : null;
  }

  /** Resolves when the current job (if any) ends; for tests and shutdown. */
  async waitRollingRestart(timeoutMs = 300_000): Promise<RollingRestartJob | null> {
    const deadline = Date.now() + timeoutMs;
    while (this.job?.status === 'running' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    return this.rollingRestartStatus();
  }

  private publishJob(): void {
    if (this.job) this.emit('rollingRestart', structuredClone(this.job));
  }

  private async runRollingRestart(job: RollingRestartJob, targets: MemberTarget[], restart: (node: string) => Promise<void>): Promise<void> {
    const t0 = Date.now();
    const stepOf = (name: string) => job.steps.find((s) => s.node === name);
    let syncTicker: NodeJS.Timeout | null = null;
    const stopTicker = () => {
      if (syncTicker) clearInterval(syncTicker);
      syncTicker = null;
    };
    let restartedAt = 0;
    const onProgress = (e: RollingRestartEvent) => {
      if (e.type === 'restarting') {
        const s = stepOf(e.name);
        if (s) {
          s.phase = 'restarting';
          s.startedAt = new Date().toISOString();
        }
      } else if (e.type === 'synced') {
        stopTicker();
        const s = stepOf(e.step.name);
        if (s) {
          s.phase = 'done';
          s.mode = e.step.mode;
          s.restartMs = e.step.restartMs;
          s.waitedMs = e.step.syncMs;
          s.inSync = true;
          s.leaderAfter = e.step.leaderAfter;
        }
      }
      this.publishJob();
    };
    try {
      const result = await zkRollingRestart(
        {
          members: targets,
          restart: async (name) => {
            const started = Date.now();
            await restart(name);
            restartedAt = Date.now();
            const s = stepOf(name);
            if (s) {
              s.phase = 'syncing';
              s.restartMs = restartedAt - started;
              s.waitedMs = 0;
            }
            this.publishJob();
            // While it syncs, tell the UI how long it has waited (once a second).
            syncTicker = setInterval(() => {
              if (s && s.phase === 'syncing') {
                s.waitedMs = Date.now() - restartedAt;
                this.publishJob();
              }
            }, 1000);
            syncTicker.unref();
          },
        },
        { dryRun: false, syncTimeoutMs: this.config.changeTimeoutMs ?? 60_000, onProgress },
      );
      job.status = 'succeeded';
      job.leaderAfter = result.leaderAfter;
    } catch (err) {
      job.status = 'failed';
      job.error = err instanceof Error ? err.message : String(err);
      for (const s of job.steps) if (s.phase === 'restarting' || s.phase === 'syncing') s.phase = 'failed';
    } finally {
      stopTicker();
    }
    job.totalMs = Date.now() - t0;
    job.finishedAt = new Date().toISOString();
    const op = this.deps.operations.record({
      action: 'ensemble_rolling_restart',
      node: null,
      status: job.status === 'succeeded' ? 'success' : 'failed',
      details: {
        jobId: job.id,
        order: job.steps.map((s) => s.node),
        steps: job.steps.map((s) => ({ node: s.node, mode: s.mode, phase: s.phase, restartMs: s.restartMs, waitedMs: s.waitedMs, leaderAfter: s.leaderAfter })),
        leaderBefore: job.leaderBefore,
        leaderAfter: job.leaderAfter,
        totalMs: job.totalMs,
        error: job.error,
      },
    });
    job.operationId = op.id;
    this.publishJob();
  }

  // -------------------------------------------------------------------------------------------
  // Load and scaling policy

  load() {
    return this.deps.load.view();
  }

  loadHistory(opts: { minutes?: number; node?: string | undefined }) {
    return this.deps.load.history({ ...(opts.minutes !== undefined ? { minutes: opts.minutes } : {}), ...(opts.node ? { node: opts.node } : {}) });
  }

  policy(): ScalingPolicy {
    return { ...this.policyValue };
  }

  setPolicy(next: ScalingPolicy): ScalingPolicy {
    const problems = scalingPolicyProblems(next);
    if (problems.length) throw new AppError('BAD_INPUT', `invalid scaling policy: ${problems.join('; ')}`);
    const before = this.policyValue;
    this.policyValue = { ...next };
    this.deps.policyStore?.save(this.policyValue);
    this.deps.operations.record({ action: 'ensemble_policy', node: null, status: 'success', details: { before, after: this.policyValue } });
    this.scheduleEvaluation();
    return this.policy();
  }

  private voters(): number {
    const stats = this.deps.cluster.cached();
    const local = this.deps.local;
    if (local) return local.nodes.filter((n) => (n.role ?? 'participant') === 'participant').length;
    return stats.filter((s) => s.mode !== 'observer').length || this.deps.cluster.members.length;
  }

  recommendations(): ScalingRecommendationsView {
    const voters = this.voters();
    const recommendation = recommendScaling(this.deps.load.scoreHistory(), this.policyValue, {
      now: this.deps.clock.now().getTime(),
      voters,
      lastActionAt: this.lastAutoAt,
    });
    const changesSupported = this.changesUnsupportedReason === null;
    return {
      policy: this.policy(),
      recommendation,
      actionable: this.policyValue.auto && changesSupported && recommendation.action !== 'none' && recommendation.blockedBy === null && this.busy === null,
      voters,
      lastAutoAction: this.lastAuto,
      changesSupported,
    };
  }

  /**
   * The automatic mode's step: when the policy is on and the recommendation may run, apply it one
   * server at a time, recorded as an `ensemble_auto_scale` operation with its cause (the
   * recommendation and its figures) and one operation per server changed. The cool-down starts at
   * the attempt, success or not, so a failing change is not retried every evaluation.
   */
  async evaluate(): Promise<ScalingRecommendationsView> {
    const view = this.recommendations();
    if (!view.actionable || this.stopped || this.deps.mayAct?.() === false) return view;
    const rec = view.recommendation;
    this.lastAutoAt = this.deps.clock.now().getTime();
    const cause: ChangeCause = { kind: 'auto', recommendation: rec.reason };
    const done: string[] = [];
    const operations: number[] = [];
    let error: string | null = null;
    try {
      for (const step of rec.steps) {
        if (step.action === 'add') {
          const r = await this.addServer({ role: step.role, confirm: true }, cause);
          done.push(`added ${r.node}`);
          operations.push(r.operationId);
        } else {
          const victim = await this.scaleDownCandidate();
          const r = await this.removeServer({ node: victim, confirm: true }, cause);
          done.push(`removed ${r.node}`);
          operations.push(r.operationId);
        }
      }
    } catch (err) {
      error = err instanceof Error ? err.message : String(err);
    }
    const op = this.deps.operations.record({
      action: 'ensemble_auto_scale',
      node: null,
      status: error ? 'failed' : 'success',
      details: { cause: rec.reason, recommendation: rec, policy: view.policy, from: rec.currentVoters, to: rec.targetVoters, done, operations, error },
    });
    this.lastAuto = {
      at: this.deps.clock.now().toISOString(),
      action: rec.action as 'scale_up' | 'scale_down',
      status: error ? 'failed' : 'success',
      operationId: op.id,
      message: error ? `${rec.reason}; stopped: ${error}` : `${rec.reason}; ${done.join(', ')}`,
    };
    return this.recommendations();
  }

  /**
   * Which voter a scale-down removes: never the leader (its removal costs an election), preferably a
   * server zkha added (not a storage node's own server), the newest first.
   */
  private async scaleDownCandidate(): Promise<string> {
    const local = this.assertChangesSupported();
    const config = await this.committed();
    const { states, targets } = await this.memberStates(config);
    const reserved = new Set(this.deps.reservedNames?.() ?? []);
    const voters = targets
      .filter((t) => t.role === 'participant' && !states.find((s) => s.id === t.id)?.leader && local.nodes.some((n) => n.name === t.name))
      .sort((a, b) => Number(reserved.has(a.name)) - Number(reserved.has(b.name)) || b.id - a.id);
    const pick = voters[0];
    if (!pick) throw new AppError('CONFLICT', 'no voter other than the leader to remove');
    return pick.name;
  }

  private scheduleEvaluation(): void {
    if (this.stopped || !this.evaluateTimer) return;
    clearTimeout(this.evaluateTimer);
    this.evaluateTimer = setTimeout(() => this.evaluateTick(), 0).unref();
  }

  private evaluateTick(): void {
    void this.evaluate()
      .catch(() => undefined)
      .finally(() => {
        if (!this.stopped) this.evaluateTimer = setTimeout(() => this.evaluateTick(), this.config.evaluateIntervalMs ?? 15_000).unref();
      });
  }

  /** Watches the committed config version (changes made elsewhere too) and runs the automatic mode's loop. */
  start(): void {
    this.stopped = false;
    this.evaluateTimer = setTimeout(() => this.evaluateTick(), this.config.evaluateIntervalMs ?? 15_000).unref();
    const watch = () => {
      void this.committed()
        .then((c) => {
          if (this.knownVersion === null) this.knownVersion = c.version;
          else if (c.version !== this.knownVersion && !this.busy) return this.announce();
          return null;
        })
        .catch(() => undefined)
        .finally(() => {
          if (!this.stopped) this.watchTimer = setTimeout(watch, this.config.watchIntervalMs ?? 5_000).unref();
        });
    };
    this.watchTimer = setTimeout(watch, 0).unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.evaluateTimer) clearTimeout(this.evaluateTimer);
    if (this.watchTimer) clearTimeout(this.watchTimer);
    this.evaluateTimer = null;
    this.watchTimer = null;
    // A restart in flight would leave a server down if the process went away mid-step: let it finish.
    await this.waitRollingRestart(120_000);
    this.removeAllListeners();
  }
}
