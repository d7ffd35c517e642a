/**
 * Rolling restart of an ensemble: one server at a time, observers and followers first, the leader
 * last (so the ensemble holds one election, among servers already restarted), and before each next
 * step the ensemble back in sync: one leader in Zab broadcast with every member synced to it
 * (`mntr` zk_synced_followers = voters - 1), see probeSync.
 *
 * It drives any deployment through `restart(name)`: the embedded ensemble's restartNode (see
 * localRestartTarget in @zkha/zk-local), a container restart, an agent... Dry run by default, as the UI
 * wants it: the plan comes back and nothing is touched unless `dryRun: false`.
 */
import { AppError, rollingRestartOrder, type ServerRole, type ZkMode } from '@zkha/core';
import { probeSync, waitInSync, type MemberTarget } from './membership.ts';

export interface RollingRestartTarget {
  /** The members, as memberTargets() gives them from the committed config. */
  members: readonly MemberTarget[];
  /** Restarts one server and resolves once its process is back (listening); syncing is waited for here. */
  restart(name: string): Promise<void>;
}

export interface RollingRestartStep {
  name: string;
  role: ServerRole;
  /** What it was when its turn came. */
  mode: ZkMode;
  /** ms for restart() to return. */
  restartMs: number;
  /** ms from then until the ensemble was in sync again. */
  syncMs: number;
  /** Leader once in sync again. */
  leaderAfter: string | null;
}

export type RollingRestartEvent =
  | { type: 'plan'; order: string[]; leader: string | null }
  | { type: 'restarting'; name: string; index: number; total: number }
  | { type: 'synced'; step: RollingRestartStep; index: number; total: number };

export interface RollingRestartOptions {
  /** Default true: return the plan, restart nothing. */
  dryRun?: boolean;
  /** Per step, for the ensemble to be in sync again. Default 60000. */
  syncTimeoutMs?: number;
  onProgress?: (event: RollingRestartEvent) => void;
}

export interface RollingRestartResult {
  dryRun: boolean;
  /** Names in restart order (as planned; the leader is re-checked before each step). */
  order: string[];
  leaderBefore: string | null;
  leaderAfter: string | null;
  steps: RollingRestartStep[];
  totalMs: number;
}

/**
 * Restarts every member once, in rolling order, waiting for sync between steps. Refuses to start
 * (AppError NO_QUORUM) unless the ensemble is in sync first: restarting a server of an ensemble that
 * already misses one could cost the quorum. If a step does not get back in sync in time it throws
 * NO_QUORUM and stops there, leaving the rest untouched.
 */
export async function rollingRestart(target: RollingRestartTarget, opts: RollingRestartOptions = {}): Promise<RollingRestartResult> {
  const t0 = Date.now();
  const dryRun = opts.dryRun ?? true;
  const syncTimeoutMs = opts.syncTimeoutMs ?? 60_000;
  const first = await probeSync(target.members);
  if (!first.inSync) {
    throw new AppError('NO_QUORUM', `rolling restart refused: the ensemble is not in sync (${first.reason ?? '?'})`, { state: first });
  }
  const candidates = target.members.map((m) => ({
    ...m,
    mode: first.servers.find((s) => s.name === m.name)?.mode ?? 'unknown',
  }));
  const planned = rollingRestartOrder(candidates);
  const order = planned.map((m) => m.name);
  opts.onProgress?.({ type: 'plan', order, leader: first.leader });
  if (dryRun) return { dryRun, order, leaderBefore: first.leader, leaderAfter: first.leader, steps: [], totalMs: Date.now() - t0 };

  const steps: RollingRestartStep[] = [];
  const remaining = [...planned];
  let leader = first.leader;
  while (remaining.length > 0) {
    // Leader last, even if leadership moved since the plan was made.
    const idx =
      remaining.length > 1
        ? Math.max(
            0,
            remaining.findIndex((m) => m.name !== leader),
          )
        : 0;
    const [member] = remaining.splice(idx, 1);
    if (!member) break;
    const index = steps.length;
    opts.onProgress?.({ type: 'restarting', name: member.name, index, total: planned.length });
    const startedAt = Date.now();
    await target.restart(member.name);
    const restartedAt = Date.now();
    const sync = await waitInSync(target.members, { timeoutMs: syncTimeoutMs });
    const step: RollingRestartStep = {
      name: member.name,
      role: member.role,
      mode: member.name === leader ? 'leader' : member.role === 'observer' ? 'observer' : 'follower',
      restartMs: restartedAt - startedAt,
      syncMs: Date.now() - restartedAt,
      leaderAfter: sync.leader,
    };
    leader = sync.leader;
    steps.push(step);
    opts.onProgress?.({ type: 'synced', step, index, total: planned.length });
  }
  return { dryRun, order, leaderBefore: first.leader, leaderAfter: leader, steps, totalMs: Date.now() - t0 };
}
