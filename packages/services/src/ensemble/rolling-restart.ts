/**
 * Rolling restarts of the ensemble: observers first, then followers one at a time (each back in sync before the
 * next), the leader last; planned as a dry run by default, otherwise run as one job at a time whose steps the UI
 * follows live, and recorded as one operation.
 */
import { AppError, rollingRestartOrder, type ServerRole, type ZkMode } from '@zkha/core';
import { memberTargets, probeSync, rollingRestart as zkRollingRestart, type MemberTarget, type RollingRestartEvent } from '@zkha/zk';

import type { OperationsService } from '../logs/operations.ts';
import type { Clock } from '../shared/clock.ts';
import type { EnsembleDriver, EnsembleMembershipService } from './membership.ts';

const UNKNOWN_MODE: ZkMode = 'unknown';

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

const ROLE_REASON: Record<'observer' | 'follower' | 'leader', string> = {
  observer: 'observer: carries no vote, restarted first',
  follower: 'follower: restarted before the leader, one at a time, each back in sync before the next',
  leader: 'leader last: the ensemble elects a new leader once, among servers already restarted',
};

export interface RollingRestartDeps {
  membership: EnsembleMembershipService;
  operations: OperationsService;
  clock: Clock;
  driver: EnsembleDriver;
  /** Restarts one server (node control: the process or docker driver); null where zkha cannot. */
  restartServer: ((node: string) => Promise<void>) | null;
  /** The job after each step, for live subscribers. */
  published: (job: RollingRestartJob) => void;
}

export class RollingRestartService {
  private job: RollingRestartJob | null = null;

  constructor(
    private readonly deps: RollingRestartDeps,
    private readonly config: { changeTimeoutMs?: number | undefined } = {},
  ) {}

  private rollingUnsupportedReason(): string | null {
    if (this.deps.restartServer) return null;
    return this.deps.driver === 'external'
      ? 'zkha cannot restart the servers of an external ensemble (ZK_NODES): restart them where they run'
      : 'node control is disabled: set DOCKER_CONTROL_ENABLED=true for the docker deployment';
  }

  private async planRollingRestart(): Promise<{ plan: RollingRestartPlan; targets: MemberTarget[] }> {
    const config = await this.deps.membership.committed();
    const targets = memberTargets(config, this.deps.membership.names(config));
    const sync = await probeSync(targets);
    const candidates = targets.map((t) => ({ ...t, mode: sync.servers.find((s) => s.name === t.name)?.mode ?? UNKNOWN_MODE }));
    const order = rollingRestartOrder(candidates).map((c) => ({
      node: c.name,
      role: c.role,
      mode: c.mode,
      reason:
        c.mode === 'leader'
          ? ROLE_REASON.leader
          : c.role === 'observer' || c.mode === 'observer'
            ? ROLE_REASON.observer
            : ROLE_REASON.follower,
    }));
    const unsupportedReason = this.rollingUnsupportedReason();
    return {
      plan: {
        order,
        leader: sync.leader,
        ready: sync.inSync,
        notReadyReason: sync.reason,
        supported: unsupportedReason === null,
        unsupportedReason,
      },
      targets,
    };
  }

  /** Dry run (default): the plan. Otherwise starts a job (CONFLICT while another change or restart runs) and returns it running. */
  async run(input: { dryRun: boolean }): Promise<RollingRestartAnswer> {
    const { plan, targets } = await this.planRollingRestart();
    if (input.dryRun) return { dryRun: true, plan, job: null };
    if (!plan.supported || !this.deps.restartServer)
      throw new AppError('NOT_SUPPORTED', plan.unsupportedReason ?? 'rolling restart is not supported here');
    if (!plan.ready)
      throw new AppError('NO_QUORUM', `rolling restart refused: the ensemble is not in sync (${plan.notReadyReason ?? '?'})`);
    const release = this.deps.membership.take('rolling_restart', null);
    const restart = this.deps.restartServer;
    const now = this.deps.clock.now();
    const job: RollingRestartJob = {
      id: `rr-${now.getTime().toString(36)}`,
      status: 'running',
      startedAt: now.toISOString(),
      finishedAt: null,
      leaderBefore: plan.leader,
      leaderAfter: null,
      steps: plan.order.map((s) => ({
        ...s,
        phase: 'pending',
        startedAt: null,
        restartMs: null,
        waitedMs: null,
        inSync: false,
        leaderAfter: null,
      })),
      totalMs: null,
      error: null,
      operationId: null,
    };
    this.job = job;
    this.publishJob();
    void this.execute(job, targets, restart).finally(release);
    return { dryRun: false, plan, job: structuredClone(job) };
  }

  status(): RollingRestartJob | null {
    return this.job ? structuredClone(this.job) : null;
  }

  /** Resolves when the current job (if any) ends; for tests and shutdown. */
  async wait(timeoutMs = 300_000): Promise<RollingRestartJob | null> {
    const deadline = Date.now() + timeoutMs;
    while (this.job?.status === 'running' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    return this.status();
  }

  private publishJob(): void {
    if (this.job) this.deps.published(structuredClone(this.job));
  }

  private async execute(job: RollingRestartJob, targets: MemberTarget[], restart: (node: string) => Promise<void>): Promise<void> {
    const t0 = Date.now();
    const steps = this.trackSteps(job, restart);
    try {
      const result = await zkRollingRestart(
        { members: targets, restart: steps.restart },
        { dryRun: false, syncTimeoutMs: this.config.changeTimeoutMs ?? 60_000, onProgress: steps.onProgress },
      );
      job.status = 'succeeded';
      job.leaderAfter = result.leaderAfter;
    } catch (err) {
      job.status = 'failed';
      job.error = err instanceof Error ? err.message : String(err);
      for (const s of job.steps) if (s.phase === 'restarting' || s.phase === 'syncing') s.phase = 'failed';
    } finally {
      steps.stopTicker();
    }
    job.totalMs = Date.now() - t0;
    job.finishedAt = new Date().toISOString();
    job.operationId = this.recordJob(job);
    this.publishJob();
  }

  /**
   * The job's steps as the restart goes: each server's phase and timings, published after each change. Returns the
   * restart to run (it times each server and ticks while it syncs), the progress listener, and the ticker's stop.
   */
  private trackSteps(job: RollingRestartJob, restart: (node: string) => Promise<void>) {
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
    const timedRestart = async (name: string) => {
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
    };
    return { restart: timedRestart, onProgress, stopTicker };
  }

  /** The finished job as one operation of the audit; returns the operation's id. */
  private recordJob(job: RollingRestartJob): number {
    return this.deps.operations.record({
      action: 'ensemble_rolling_restart',
      node: null,
      status: job.status === 'succeeded' ? 'success' : 'failed',
      details: {
        jobId: job.id,
        order: job.steps.map((s) => s.node),
        steps: job.steps.map((s) => ({
          node: s.node,
          mode: s.mode,
          phase: s.phase,
          restartMs: s.restartMs,
          waitedMs: s.waitedMs,
          leaderAfter: s.leaderAfter,
        })),
        leaderBefore: job.leaderBefore,
        leaderAfter: job.leaderAfter,
        totalMs: job.totalMs,
        error: job.error,
      },
    }).id;
  }
}
