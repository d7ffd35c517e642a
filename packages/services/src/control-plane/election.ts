/**
 * Several zkha instances, one leader: each instance is a candidate in ZooKeeper's leader-election recipe under
 * /zkha/control/election (LeaderElection: ephemeral sequential znodes, each watching its predecessor). Only the
 * leader runs the background loops (the `lead` hook: migration recovery and pump, automatic scheduler, capacity
 * sampler, node lifecycle, scaling policy, demo workload); on losing the lead they stop at once (`follow`).
 *
 * The leader also keeps /zkha/control/leader current (who, where, since when, last beat), fenced by its election
 * znode: a multi that checks that znode first fails once the leader's session is gone, so an instance that was
 * paused past its session timeout cannot overwrite its successor's record. A successor reads that record to time
 * the takeover: detection (last beat of the old leader to the moment the recipe woke this one), election (woken to
 * elected) and recovery (elected to the loops running). The last takeovers are kept in /zkha/control/takeovers.
 */
import { hostname } from 'node:os';

import { isZkError, LeaderElection, type ZkSession } from '@zkha/zk';

import type { Clock } from '../shared/clock.ts';
import type { AppEvents } from '../shared/event-bus.ts';
import type { OperationsService } from '../logs/operations.ts';
import type { FileTreeState } from '../files/file-projection.ts';

export const CONTROL_ROOT = '/zkha/control';
export const ELECTION_ROOT = `${CONTROL_ROOT}/election`;
export const LEADER_ZNODE = `${CONTROL_ROOT}/leader`;
export const TAKEOVERS_ZNODE = `${CONTROL_ROOT}/takeovers`;
/** Takeovers kept in TAKEOVERS_ZNODE, newest first. */
const TAKEOVERS_KEPT = 20;

/** What an instance says about itself in its election znode. */
export interface InstanceInfo {
  id: string;
  /** Where the other instances reach its API (followers forward mutations there when it leads); null when unknown. */
  url: string | null;
  /** Where browsers reach its console (a console whose instance dies goes there); null: the same as `url`. */
  consoleUrl?: string | null;
  startedAt: string;
}

export interface LeaderRecord extends InstanceInfo {
  /** When this instance became leader. */
  since: string;
  /** The leader's last beat (it writes one every BEAT_MS while it leads). */
  beatAt: string;
}

export interface TakeoverRecord {
  at: string;
  from: string | null;
  to: string;
  /** The old leader's last beat to the moment the recipe woke this instance (its session had to expire first). */
  detectionMs: number | null;
  /** Woken to elected. */
  electionMs: number;
  /** Elected to the leader's loops running (in-flight moves recovered from the journal). */
  recoveryMs: number;
  /** What recovery found in the journal. */
  recovered: Record<string, number>;
}

export type ControlRole = 'leader' | 'follower' | 'standalone';
export type { FileTreeState };

export interface ControlStatus {
  instance: InstanceInfo;
  role: ControlRole;
  leader: (LeaderRecord & { self: boolean }) | null;
  instances: (InstanceInfo & { leader: boolean; self: boolean })[];
  takeovers: TakeoverRecord[];
  /** Times this instance became leader since it started. */
  elections: number;
  /** Under election, the file tree's state (filled in by the services, which follow the tree). */
  fileTree?: FileTreeState;
}

export interface ControlHooks {
  /** Becomes leader: recover, then start the loops; resolves with what recovery found. */
  lead(): Promise<Record<string, number>>;
  /** No longer leader (or stopping): stop the loops now. */
  follow(reason: string): Promise<void>;
}

export interface ControlOptions {
  /** This instance's identity (default: host name and process id). */
  id?: string;
  url?: string | null;
  /** The election's lease (default: 2/3 of the session timeout). */
  leaseMs?: number;
  beatMs?: number;
}

const BEAT_MS = 1_000;

export function defaultInstanceId(): string {
  return `${hostname()}-${process.pid}`;
}

export class ControlPlane {
  readonly instance: InstanceInfo;
  private readonly election: LeaderElection;
  private leading = false;
  private since: string | null = null;
  private wokenAt: number | null = null;
  private beatTimer: NodeJS.Timeout | null = null;
  /** Serialises lead/follow transitions: a demotion waits for a takeover in progress, and the other way round. */
  private transition: Promise<void> = Promise.resolve();
  private stopped = true;
  /** Times this instance became leader, and of those, took over from another. */
  elections = 0;
  takeovers = 0;

  constructor(
    private readonly deps: { session: ZkSession; events: AppEvents; operations: OperationsService; clock: Clock },
    private readonly hooks: ControlHooks,
    private readonly opts: ControlOptions = {},
  ) {
    this.instance = { id: opts.id ?? defaultInstanceId(), url: opts.url ?? null, startedAt: deps.clock.now().toISOString() };
    const sessionTimeout = deps.session.sessionTimeoutMs;
    this.election = new LeaderElection(deps.session, {
      root: ELECTION_ROOT,
      id: JSON.stringify(this.instance),
      leaseMs: opts.leaseMs ?? Math.max(1_000, Math.floor((sessionTimeout * 2) / 3)),
      // This instance restarted after a crash: its old candidate is dead (one instance per id), not waited for.
      isEarlierSelf: (data) => parseInstance(data)?.id === this.instance.id,
    });
    this.election.on('woken', () => {
      if (!this.leading) this.wokenAt = performance.now(); // the last wake before an election is the one that led to it
    });
    this.election.on('elected', () => void this.onElected());
    this.election.on('demoted', (reason) => void this.onDemoted(reason));
  }

  /** Sets where the other instances and browsers reach this one (known once the HTTP server listens). */
  setUrl(url: string, consoleUrl: string | null = null): void {
    this.instance.url = url;
    this.instance.consoleUrl = consoleUrl;
    this.election.setId(JSON.stringify(this.instance));
  }

  async start(): Promise<void> {
    this.stopped = false;
    await this.deps.session.client.mkdirp(CONTROL_ROOT);
    await this.election.start();
    // Not elected at once: follow (after a takeover already under way, if any).
    this.transition = this.transition.then(async () => {
      if (!this.leading && !this.stopped) await this.hooks.follow('joined as a follower').catch(() => undefined);
    });
    await this.transition;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.beatTimer) clearInterval(this.beatTimer);
    this.beatTimer = null;
    await this.election.stop();
    await this.transition;
  }

  /**
   * Whether this instance may act as leader right now: elected, and its lead confirmed within the lease. Leader
   * work checks it before each write, so an instance paused past its session timeout stops before writing.
   */
  isLeader(): boolean {
    return this.leading && this.election.isLeader();
  }

  /** The election znode: leader writes to ZooKeeper check it in the same multi, so a deposed leader's fail. */
  fence(): string | null {
    return this.isLeader() ? this.election.znode : null;
  }

  role(): ControlRole {
    return this.isLeader() ? 'leader' : 'follower';
  }

  /** The current leader as the other instances see it (from its election znode); null while none leads. */
  async leaderInfo(): Promise<InstanceInfo | null> {
    const raw = await this.election.leader().catch(() => null);
    return raw ? parseInstance(raw) : null;
  }

  async status(): Promise<ControlStatus> {
    const client = this.deps.session.client;
    const [candidates, leader, takeovers] = await Promise.all([
      this.election.candidateData().catch(() => [] as string[]),
      client.getJson<LeaderRecord>(LEADER_ZNODE).catch(() => null),
      client.getJson<TakeoverRecord[]>(TAKEOVERS_ZNODE).catch(() => [] as TakeoverRecord[]),
    ]);
    const instances = candidates.map(parseInstance).filter((i): i is InstanceInfo => i !== null);
    const leaderId = instances[0]?.id ?? null;
    return {
      instance: this.instance,
      role: this.role(),
      leader:
        leader && leader.id === leaderId
          ? { ...leader, self: leader.id === this.instance.id }
          : instances[0]
            ? { ...instances[0], since: '', beatAt: '', self: instances[0].id === this.instance.id }
            : null,
      instances: instances.map((i) => ({ ...i, leader: i.id === leaderId, self: i.id === this.instance.id })),
      takeovers: Array.isArray(takeovers) ? takeovers : [],
      elections: this.elections,
    };
  }

  private onElected(): void {
    this.transition = this.transition.then(async () => {
      if (this.stopped || !this.election.isLeader()) return;
      const electedAt = performance.now();
      const wokenAt = this.wokenAt ?? electedAt;
      this.wokenAt = null;
      const client = this.deps.session.client;
      const previous = await client.getJson<LeaderRecord>(LEADER_ZNODE).catch(() => null);
      this.leading = true;
      this.elections++;
      this.since = this.deps.clock.now().toISOString();
      const recovered = await this.hooks.lead().catch((err: unknown) => {
        this.deps.operations.record({
          action: 'control_lead',
          status: 'failed',
          details: { instance: this.instance.id, error: (err as Error).message },
        });
        return {};
      });
      const readyAt = performance.now();
      await this.beat();
      this.beatTimer = setInterval(() => void this.beat(), this.opts.beatMs ?? BEAT_MS);
      this.beatTimer.unref();
      const isTakeover = previous !== null && previous.id !== this.instance.id;
      const takeover: TakeoverRecord | null = isTakeover
        ? {
            at: this.since,
            from: previous.id,
            to: this.instance.id,
            // The old leader's last beat, on the wall clock, to when the recipe woke this instance.
            detectionMs: Math.max(0, Math.round(Date.now() - (performance.now() - wokenAt) - Date.parse(previous.beatAt))),
            electionMs: Math.round(electedAt - wokenAt),
            recoveryMs: Math.round(readyAt - electedAt),
            recovered,
          }
        : null;
      if (takeover) {
        this.takeovers++;
        await this.recordTakeover(takeover);
      }
      this.deps.operations.record({
        action: 'control_leader',
        status: 'success',
        details: { instance: this.instance.id, url: this.instance.url, ...(takeover ? { takeover } : { previous: previous?.id ?? null }) },
      });
      this.deps.events.emit('changed', { kind: 'control' });
    });
  }

  private onDemoted(reason: string): void {
    // Stop leader work at once, before waiting for anything else.
    const wasLeading = this.leading;
    this.leading = false;
    if (this.beatTimer) clearInterval(this.beatTimer);
    this.beatTimer = null;
    this.transition = this.transition.then(async () => {
      if (!wasLeading) return;
      await this.hooks.follow(reason).catch(() => undefined);
      this.deps.operations.record({ action: 'control_follower', status: 'success', details: { instance: this.instance.id, reason } });
      this.deps.events.emit('changed', { kind: 'control' });
    });
  }

  /** Writes the leader record, fenced by the election znode (a deposed leader's write fails). */
  private async beat(): Promise<void> {
    const fence = this.fence();
    if (!fence || !this.since) return;
    const record: LeaderRecord = { ...this.instance, since: this.since, beatAt: this.deps.clock.now().toISOString() };
    const client = this.deps.session.client;
    try {
      if (!(await client.exists(LEADER_ZNODE)))
        await client.create(LEADER_ZNODE, '{}', 'persistent').catch((err: unknown) => {
          if (!isZkError(err, 'NODE_EXISTS')) throw err;
        });
      await client.transaction().check(fence).set(LEADER_ZNODE, JSON.stringify(record)).commit();
    } catch {
      // No quorum, or no longer leader: the lease and the session's events decide the rest.
    }
  }

  private async recordTakeover(t: TakeoverRecord): Promise<void> {
    const client = this.deps.session.client;
    const fence = this.fence();
    if (!fence) return;
    try {
      const list = (await client.exists(TAKEOVERS_ZNODE)) ? await client.getJson<TakeoverRecord[]>(TAKEOVERS_ZNODE).catch(() => []) : null;
      if (list === null) await client.create(TAKEOVERS_ZNODE, '[]', 'persistent').catch(() => undefined);
      const next = [t, ...(Array.isArray(list) ? list : [])].slice(0, TAKEOVERS_KEPT);
      await client.transaction().check(fence).set(TAKEOVERS_ZNODE, JSON.stringify(next)).commit();
    } catch {
      // best effort: the operation below still records it in this instance's audit
    }
  }
}

function parseInstance(raw: string): InstanceInfo | null {
  try {
    const v = JSON.parse(raw) as Partial<InstanceInfo>;
    return typeof v.id === 'string'
      ? {
          id: v.id,
          url: typeof v.url === 'string' ? v.url : null,
          consoleUrl: typeof v.consoleUrl === 'string' ? v.consoleUrl : null,
          startedAt: typeof v.startedAt === 'string' ? v.startedAt : '',
        }
      : null;
  } catch {
    return { id: raw, url: null, startedAt: '' };
  }
}
