import { AppError, type FourLetterCommand, type ZkServerStats } from '@zkha/core';
import { fourLetterWord } from '@zkha/zk';

import type { Clock } from '../shared/clock.ts';
import type { AppEvents } from '../shared/event-bus.ts';
import type { ClusterEvent } from './events.ts';
import type { OperationsService } from '../logs/operations.ts';

export interface EnsembleMember {
  name: string;
  host: string;
  port: number;
}

export type Prober = (members: readonly EnsembleMember[]) => Promise<ZkServerStats[]>;

export interface ClusterSummary {
  leader: string | null;
  upCount: number;
  size: number;
  quorum: boolean;
  probedAt: string | null;
}

/**
 * Watches the ensemble by asking each server about itself (srvr/mntr) on an interval. Keeps the last answer
 * for cheap reads, and turns differences between two answers into cluster events (leader changed, node down).
 */
export class ClusterMonitor {
  private last: ZkServerStats[] = [];
  private timer: NodeJS.Timeout | null = null;
  private inflight: Promise<ZkServerStats[]> | null = null;
  private current: readonly EnsembleMember[];

  constructor(
    private readonly deps: {
      members: readonly EnsembleMember[];
      probe: Prober;
      events: AppEvents;
      operations: OperationsService;
      clock: Clock;
      intervalMs: number;
    },
  ) {
    this.current = [...deps.members];
  }

  /** The servers probed: the ensemble's membership at the time of use (it changes with reconfig). */
  get members(): readonly EnsembleMember[] {
    return this.current;
  }

  /**
   * Follows a membership change: the next probe asks the new list. Stats of servers that left are
   * dropped from the cache at once, so the quorum verdict never counts a server that is gone.
   */
  setMembers(members: readonly EnsembleMember[]): void {
    this.current = [...members];
    const names = new Set(members.map((m) => m.name));
    this.last = this.last.filter((s) => names.has(s.node));
  }

  /** The last probe, or a fresh one if none has run yet. */
  async stats(): Promise<ZkServerStats[]> {
    if (this.last.length === 0) return this.refresh();
    return this.last;
  }

  /**
   * One of ZooKeeper's read-only four-letter words (srvr, stat, mntr, conf, cons, wchs, envi, ruok, isro, dirs), as
   * the server answers it: the explorer's admin panel. NODE_NOT_FOUND for a server not in the ensemble.
   */
  async fourLetter(node: string, command: FourLetterCommand): Promise<{ node: string; command: FourLetterCommand; text: string }> {
    const m = this.current.find((x) => x.name === node);
    if (!m)
      throw new AppError(
        'NODE_NOT_FOUND',
        `no server ${JSON.stringify(node)} in the ensemble (servers: ${this.current.map((x) => x.name).join(', ')})`,
        { node },
      );
    try {
      return { node, command, text: await fourLetterWord(m.host, m.port, command) };
    } catch (err) {
      throw new AppError('ZK_UNAVAILABLE', `${node} (${m.host}:${m.port}) did not answer ${command}: ${(err as Error).message}`, {
        node,
        command,
      });
    }
  }

  cached(): ZkServerStats[] {
    return this.last;
  }

  summary(stats: readonly ZkServerStats[] = this.last): ClusterSummary {
    const up = stats.filter((s) => s.up);
    const leader = up.find((s) => s.mode === 'leader' || s.mode === 'standalone')?.node ?? null;
    return {
      leader,
      upCount: up.length,
      size: this.current.length,
      // A leader only serves while it holds a quorum, so "a leader answers" is the servers' own quorum verdict.
      quorum: leader !== null,
      probedAt: stats[0]?.probedAt ?? null,
    };
  }

  /**
   * Throws NO_QUORUM when the last probe found no leader. ZooKeeper would refuse the write anyway, but only
   * after the client's operation timeout, and with a connection error that does not say why; refusing up
   * front says why at once and touches nothing. Before the first probe there is no verdict: let ZooKeeper decide.
   */
  assertQuorum(what: string): void {
    if (this.last.length === 0) return;
    const s = this.summary();
    if (!s.quorum) {
      throw new AppError(
        'NO_QUORUM',
        `ZooKeeper has no quorum (${s.upCount} of ${s.size} servers serving): ${what} is refused until a majority is back; reads still answer`,
        {
          upCount: s.upCount,
          size: s.size,
        },
      );
    }
  }

  /** Probes now; concurrent callers share one probe. */
  refresh(): Promise<ZkServerStats[]> {
    this.inflight ??= this.deps
      .probe(this.current)
      .then((probed) => {
        // A probe that began before a membership change may answer for a server that has left since.
        const names = new Set(this.current.map((m) => m.name));
        const stats = probed.filter((s) => names.has(s.node));
        const previous = this.last;
        this.last = stats;
        this.diff(previous, stats);
        this.deps.events.emit('nodes', stats);
        return stats;
      })
      .finally(() => {
        this.inflight = null;
      });
    return this.inflight;
  }

  start(): void {
    if (this.timer) return;
    const tick = () => {
      this.refresh()
        .catch(() => undefined)
        .finally(() => {
          if (this.timer) this.timer = setTimeout(tick, this.deps.intervalMs).unref();
        });
    };
    this.timer = setTimeout(tick, 0).unref();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private diff(previous: readonly ZkServerStats[], current: readonly ZkServerStats[]): void {
    if (previous.length === 0) return;
    const at = this.deps.clock.now().toISOString();
    const emit = (kind: ClusterEvent['kind'], node: string | null, message: string) => {
      this.deps.events.emit('cluster', { at, kind, node, message });
      this.deps.operations.record({ action: kind, node, status: 'success', details: { message } });
    };
    const before = new Map(previous.map((s) => [s.node, s]));
    for (const s of current) {
      const p = before.get(s.node);
      if (!p) continue;
      if (p.up && !s.up) emit('node_down', s.node, `${s.node} stopped answering (${s.error ?? 'no reply'})`);
      if (!p.up && s.up) emit('node_up', s.node, `${s.node} is back as ${s.mode}`);
    }
    const was = this.summary(previous);
    const now = this.summary(current);
    if (was.quorum && !now.quorum) emit('quorum_lost', null, `quorum lost: ${now.upCount} of ${now.size} servers serving`);
    if (!was.quorum && now.quorum) emit('quorum_restored', now.leader, `quorum restored with ${now.leader} leading`);
    if (was.leader !== null && now.leader !== null && was.leader !== now.leader) {
      emit('leader_changed', now.leader, `leader changed: ${was.leader} → ${now.leader}`);
    }
  }
}
