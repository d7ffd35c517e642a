/**
 * Load-based scaling of the ensemble: the scaling policy (kept across restarts), the recommendation from the load
 * score's history (core's recommendScaling), and the opt-in automatic mode that applies it one server at a time
 * through the membership service, on an interval and only while this instance may act.
 */
import {
  AppError,
  DEFAULT_SCALING_POLICY,
  recommendScaling,
  scalingPolicyProblems,
  type ScalingPolicy,
  type ScalingRecommendation,
} from '@zkha/core';
import type { LocalEnsemble } from '@zkha/zk-local';

import type { ClusterMonitor } from '../liveness/cluster-monitor.ts';
import type { OperationsService } from '../logs/operations.ts';
import type { Clock } from '../shared/clock.ts';
import type { LoadMonitor } from './load-monitor.ts';
import type { ChangeCause, EnsembleMembershipService } from './membership.ts';

export interface ScalingRecommendationsView {
  policy: ScalingPolicy;
  recommendation: ScalingRecommendation;
  /** Whether the automatic mode would apply it now. */
  actionable: boolean;
  voters: number;
  lastAutoAction: {
    at: string;
    action: 'scale_up' | 'scale_down';
    status: 'success' | 'failed';
    operationId: number | null;
    message: string;
  } | null;
  changesSupported: boolean;
}

export interface AutoscalingDeps {
  membership: EnsembleMembershipService;
  cluster: ClusterMonitor;
  operations: OperationsService;
  clock: Clock;
  load: LoadMonitor;
  local: LocalEnsemble | null;
  /** Whether this instance may act on its own (it leads, or runs alone): the automatic mode acts only then. */
  mayAct?: (() => boolean) | undefined;
  reservedNames?: (() => readonly string[]) | undefined;
  policyStore?: { load(): Partial<ScalingPolicy> | null; save(policy: ScalingPolicy): void } | null | undefined;
}

export class EnsembleAutoscaler {
  private policyValue: ScalingPolicy;
  private lastAuto: ScalingRecommendationsView['lastAutoAction'] = null;
  private lastAutoAt: number | null = null;
  private evaluateTimer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    private readonly deps: AutoscalingDeps,
    private readonly config: { policy?: Partial<ScalingPolicy> | undefined; evaluateIntervalMs?: number | undefined } = {},
  ) {
    const stored = deps.policyStore?.load() ?? null;
    const merged = { ...DEFAULT_SCALING_POLICY, ...config.policy, ...stored };
    // A stored policy that no longer makes sense with the configured defaults falls back to them.
    this.policyValue = scalingPolicyProblems(merged).length === 0 ? merged : { ...DEFAULT_SCALING_POLICY, ...config.policy };
  }

  /** The voters a membership change must leave, from the policy. */
  guard(): { minVoters: number; maxVoters: number } {
    return { minVoters: this.policyValue.minVoters, maxVoters: this.policyValue.maxVoters };
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
    const changesSupported = this.deps.membership.changesUnsupportedReason === null;
    return {
      policy: this.policy(),
      recommendation,
      actionable:
        this.policyValue.auto &&
        changesSupported &&
        recommendation.action !== 'none' &&
        recommendation.blockedBy === null &&
        this.deps.membership.busy === null,
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
          const r = await this.deps.membership.addServer({ role: step.role, confirm: true }, cause);
          done.push(`added ${r.node}`);
          operations.push(r.operationId);
        } else {
          const victim = await this.scaleDownCandidate();
          const r = await this.deps.membership.removeServer({ node: victim, confirm: true }, cause);
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
      details: {
        cause: rec.reason,
        recommendation: rec,
        policy: view.policy,
        from: rec.currentVoters,
        to: rec.targetVoters,
        done,
        operations,
        error,
      },
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
    const local = this.deps.membership.assertChangesSupported();
    const config = await this.deps.membership.committed();
    const { states, targets } = await this.deps.membership.memberStates(config);
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

  /** Runs the automatic mode's loop. */
  start(): void {
    this.stopped = false;
    this.evaluateTimer = setTimeout(() => this.evaluateTick(), this.config.evaluateIntervalMs ?? 15_000).unref();
  }

  stop(): void {
    this.stopped = true;
    if (this.evaluateTimer) clearTimeout(this.evaluateTimer);
    this.evaluateTimer = null;
  }
}
