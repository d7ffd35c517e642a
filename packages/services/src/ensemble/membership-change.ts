/**
 * One membership change as it runs, once EnsembleMembershipService has taken the lock and read the membership before
 * it: the launcher's change (`reconfig` with its guards), the operation in the audit with the membership before and
 * after, and zkha following the new server list (cluster monitor, saved membership, its own session).
 */
import { AppError, type MembershipChangeCheck, type QuorumFigures, type ServerRole } from '@zkha/core';
import type { DynamicConfig, ZkSession } from '@zkha/zk';
import type { EnsembleNodeSpec, LocalEnsemble, MembershipChangeResult } from '@zkha/zk-local';

import type { ClusterMonitor, EnsembleMember } from '../liveness/cluster-monitor.ts';
import type { OperationsService } from '../logs/operations.ts';
import type { LoadMonitor } from './load-monitor.ts';

export interface MembershipSnapshot {
  version: string;
  voters: string[];
  observers: string[];
  quorum: QuorumFigures;
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

/** The membership's adapters and callbacks a change uses (a subset of MembershipDeps). */
export interface MembershipChangeDeps {
  session: ZkSession;
  cluster: ClusterMonitor;
  operations: OperationsService;
  load: LoadMonitor;
  local: LocalEnsemble | null;
  onMembers: (members: EnsembleMember[]) => void;
  persist?: ((nodes: readonly EnsembleNodeSpec[]) => void) | null;
}

/** What a change reads back from the membership service: a config's snapshot, and the announcement of the new one. */
export interface MembershipChangeParts {
  snapshot: (config: DynamicConfig) => MembershipSnapshot;
  announce: () => Promise<unknown>;
}

export class MembershipChangeRunner {
  constructor(
    private readonly deps: MembershipChangeDeps,
    private readonly parts: MembershipChangeParts,
  ) {}

  /** Runs the launcher's change (`run`) and records it; a refusal by the guards is thrown as it came. */
  async run(
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
      const refused =
        err instanceof AppError && (err.code === 'CONFLICT' || err.code === 'BAD_INPUT') && /refused|needs confirmation/.test(message);
      if (!refused) {
        this.deps.operations.record({
          action: opAction,
          node,
          status: 'failed',
          details: { ...causeDetails, id, role, error: message },
          beforeMetrics: { membership: before },
          afterMetrics: null,
        });
        // Whatever happened, follow what the launcher now runs.
        await this.followMembership().catch(() => undefined);
      }
      throw err;
    }
    if (action === 'remove') this.deps.load.forget(node);
    const follow = await this.followMembership();
    const after = this.parts.snapshot(result.after);
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
    void this.parts.announce();
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
}
