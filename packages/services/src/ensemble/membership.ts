/**
 * The ensemble's membership: who is in it (read from /zookeeper/config and every server's `conf`), and guarded
 * changes on the embedded default (add or remove one server at a time), each recorded with the membership before
 * and after and followed by zkha's own clients (run by MembershipChangeRunner, see membership-change.ts). Also
 * watches the committed config version for changes made elsewhere. One change or restart at a time for the whole
 * ensemble service (`take`).
 */
import {
  AppError,
  checkMembershipChange,
  quorumFigures,
  type MembershipChangeCheck,
  type QuorumFigures,
  type ServerRole,
  type ZkMode,
} from '@zkha/core';
import { memberTargets, probeSync, readConfig, readMembership, type DynamicConfig, type MemberTarget, type ZkSession } from '@zkha/zk';
import { addServer as zkAddServer, removeServer as zkRemoveServer, type EnsembleNodeSpec, type LocalEnsemble } from '@zkha/zk-local';

import type { ClusterMonitor, EnsembleMember } from '../liveness/cluster-monitor.ts';
import type { OperationsService } from '../logs/operations.ts';
import type { Clock } from '../shared/clock.ts';
import type { LoadMonitor } from './load-monitor.ts';
import { MembershipChangeRunner, type ChangeCause, type EnsembleChangeResult, type MembershipSnapshot } from './membership-change.ts';
import { freePortAllocator, type PortAllocator } from './ports.ts';

export type { ChangeCause, EnsembleChangeResult, MembershipSnapshot };

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

export interface MembershipDeps {
  session: ZkSession;
  cluster: ClusterMonitor;
  operations: OperationsService;
  clock: Clock;
  load: LoadMonitor;
  local: LocalEnsemble | null;
  driver: EnsembleDriver;
  allocatePorts?: PortAllocator;
  onMembers: (members: EnsembleMember[]) => void;
  persist?: ((nodes: readonly EnsembleNodeSpec[]) => void) | null;
  reservedNames?: () => readonly string[];
  /** The voters a change must leave (the scaling policy's bounds). */
  guard: () => { minVoters: number; maxVoters: number };
  /** The membership after a change, or when the config version moved: for live subscribers. */
  announced: (membership: EnsembleMembership) => void;
}

export class EnsembleMembershipService {
  private busyValue: EnsembleMembership['busy'] = null;
  private knownVersion: string | null = null;
  private watchTimer: NodeJS.Timeout | null = null;
  private stopped = false;
  private readonly allocatePorts: PortAllocator;
  /** Runs a change once it is prepared: the launcher's change, its operation, following the new server list. */
  private readonly changes: MembershipChangeRunner;

  constructor(
    private readonly deps: MembershipDeps,
    private readonly config: { changeTimeoutMs?: number | undefined; watchIntervalMs?: number | undefined } = {},
  ) {
    this.allocatePorts = deps.allocatePorts ?? freePortAllocator(deps.local?.host ?? '127.0.0.1');
    this.changes = new MembershipChangeRunner(deps, { snapshot: (c) => this.snapshot(c), announce: () => this.announce() });
  }

  /** The committed dynamic config version last seen (ZooKeeper's hex string); null before the first look. */
  get configVersion(): string | null {
    return this.knownVersion;
  }

  /** The change or restart running now, if any. */
  get busy(): EnsembleMembership['busy'] {
    return this.busyValue;
  }

  get changesUnsupportedReason(): string | null {
    if (this.deps.driver === 'process' && this.deps.local) {
      return this.deps.local.reconfigEnabled
        ? null
        : 'the embedded ensemble runs without dynamic reconfiguration (a one-node ensemble): it cannot change membership while serving';
    }
    if (this.deps.driver === 'docker') {
      return 'adding and removing servers is supported on the embedded default only: on the compose deployment, add the service to docker-compose.yml and run `reconfig -add` with the ZooKeeper CLI';
    }
    return 'adding and removing servers is supported on the embedded default only: zkha does not run the servers of an external ensemble (ZK_NODES)';
  }

  /** id → our name: the launcher's names, else the cluster monitor's members matched by client address. */
  names(config: DynamicConfig): Map<number, string> {
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

  async committed(): Promise<DynamicConfig> {
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
      busy: this.busyValue,
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
    const extra = (this.deps.local?.nodes ?? [])
      .filter((n) => !members.has(n.id))
      .map((n) => ({ name: n.name, host: this.deps.local!.host, port: n.clientPort }));
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
  async memberStates(
    config: DynamicConfig,
  ): Promise<{ states: { id: number; role: ServerRole; up: boolean; leader: boolean }[]; targets: MemberTarget[] }> {
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
    const taken = new Set([
      ...(this.deps.local?.nodes.map((n) => n.name) ?? []),
      ...this.deps.cluster.members.map((m) => m.name),
      ...(this.deps.reservedNames?.() ?? []),
    ]);
    let name = `zk${id}`;
    for (let i = 2; taken.has(name); i++) name = `zk${id}-${i}`;
    return { id, name };
  }

  /** What a change would do (guards with quorum before and after), touching nothing. */
  async planChange(input: {
    action: 'add' | 'remove';
    node?: string | undefined;
    role?: ServerRole | undefined;
  }): Promise<EnsembleChangePlan> {
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
      check = checkMembershipChange(states, { add: [{ id, role }] }, this.deps.guard());
    } else {
      const target = targets.find((t) => t.name === input.node);
      if (!target) {
        throw new AppError(
          'NODE_NOT_FOUND',
          `"${input.node ?? ''}" is not a member of the ensemble (members: ${targets.map((t) => t.name).join(', ')})`,
          {
            node: input.node ?? null,
          },
        );
      }
      node = target.name;
      id = target.id;
      role = target.role;
      check = checkMembershipChange(states, { remove: [id] }, this.deps.guard());
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
      guard: this.deps.guard(),
      wouldRun: {
        withoutConfirm: unsupportedReason === null && check.allowed && !check.needsConfirmation,
        withConfirm: unsupportedReason === null && check.allowed,
      },
    };
  }

  assertChangesSupported(): LocalEnsemble {
    const reason = this.changesUnsupportedReason;
    if (reason !== null || !this.deps.local)
      throw new AppError('NOT_SUPPORTED', reason ?? 'membership changes are not supported here', { driver: this.deps.driver });
    return this.deps.local;
  }

  /** One change or restart at a time: a second one while the first runs is refused (CONFLICT). */
  take(kind: NonNullable<EnsembleMembership['busy']>['kind'], node: string | null): () => void {
    if (this.busyValue) {
      throw new AppError(
        'CONFLICT',
        `another ensemble change is in progress (${this.busyValue.kind.replace('_', ' ')}${this.busyValue.node ? ` of ${this.busyValue.node}` : ''} since ${this.busyValue.since}): wait for it to finish`,
        { busy: this.busyValue },
      );
    }
    this.busyValue = { kind, since: this.deps.clock.now().toISOString(), node };
    return () => {
      this.busyValue = null;
    };
  }

  /** Adds a server (embedded default): start its JVM, `reconfig -add`, wait in sync, move zkha's clients. */
  async addServer(input: { role: ServerRole; confirm: boolean }, cause: ChangeCause = { kind: 'operator' }): Promise<EnsembleChangeResult> {
    const local = this.assertChangesSupported();
    const release = this.take('add', null);
    try {
      const config = await this.committed();
      const { id, name } = this.nextServer(config);
      if (this.busyValue) this.busyValue.node = name;
      const before = this.snapshot(config);
      const spec: EnsembleNodeSpec = { name, id, role: input.role, ...(await this.allocatePorts(id)) };
      return await this.changes.run('add', name, id, input.role, before, cause, () =>
        zkAddServer(local, spec, { confirmed: input.confirm, guard: this.deps.guard(), timeoutMs: this.config.changeTimeoutMs ?? 60_000 }),
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
        throw new AppError('NODE_NOT_FOUND', `"${input.node}" is not a member of the ensemble (members: ${names.join(', ')})`, {
          node: input.node,
        });
      }
      const before = this.snapshot(config);
      return await this.changes.run('remove', spec.name, spec.id, member.role, before, cause, () =>
        zkRemoveServer(local, spec.name, {
          confirmed: input.confirm,
          guard: this.deps.guard(),
          deleteData: true,
          timeoutMs: this.config.changeTimeoutMs ?? 60_000,
        }),
      );
    } finally {
      release();
    }
  }

  /** Emits the membership to live subscribers (after a change, or when the config version moved). */
  async announce(): Promise<EnsembleMembership | null> {
    try {
      const m = await this.membership();
      this.knownVersion = m.version;
      this.deps.announced(m);
      return m;
    } catch {
      return null;
    }
  }

  /** Watches the committed config version (changes made elsewhere too). */
  start(): void {
    this.stopped = false;
    const watch = () => {
      void this.committed()
        .then((c) => {
          if (this.knownVersion === null) this.knownVersion = c.version;
          else if (c.version !== this.knownVersion && !this.busyValue) return this.announce();
          return null;
        })
        .catch(() => undefined)
        .finally(() => {
          if (!this.stopped) this.watchTimer = setTimeout(watch, this.config.watchIntervalMs ?? 5_000).unref();
        });
    };
    this.watchTimer = setTimeout(watch, 0).unref();
  }

  stop(): void {
    this.stopped = true;
    if (this.watchTimer) clearTimeout(this.watchTimer);
    this.watchTimer = null;
  }
}
