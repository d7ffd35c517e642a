/**
 * When to grow or shrink the ZooKeeper ensemble, from the history of its load score. Pure: the
 * caller passes the samples, the policy, the voter count and when the last automatic action ran.
 *
 * Rules:
 * - scale up when every known score of the last `forMinutes` is above `upThreshold`, scale down when
 *   every one is below `downThreshold` ("stays above for N minutes", not "the average is above");
 * - only on a history that covers the window: at least 90 % of it, with no hole longer than
 *   `maxGapMs` (zkha restarted, probes failing), because a short or patchy history says nothing about
 *   N minutes;
 * - voters move between odd counts (3 → 5 → 7): an even count tolerates no more failures than the
 *   odd count below it and makes every write wait for one more server; within [minVoters, maxVoters];
 * - after an automatic action, nothing for `cooldownMinutes`: the load has to settle on the new
 *   membership before it says anything.
 */
export interface ScalingPolicy {
  /** Apply recommendations automatically (off by default: recommendations are only shown). */
  auto: boolean;
  /** Ensemble load score (0-100) above which, sustained, the ensemble should grow. */
  upThreshold: number;
  /** Ensemble load score below which, sustained, it may shrink. */
  downThreshold: number;
  /** How long the score must stay beyond a threshold. */
  forMinutes: number;
  /** Quiet time after an automatic action. */
  cooldownMinutes: number;
  minVoters: number;
  maxVoters: number;
}

export const DEFAULT_SCALING_POLICY: ScalingPolicy = {
  auto: false,
  upThreshold: 75,
  downThreshold: 20,
  forMinutes: 10,
  cooldownMinutes: 30,
  minVoters: 3,
  maxVoters: 7,
};

export interface ScoreSample {
  /** Epoch ms. */
  at: number;
  score: number | null;
}

export type ScalingAction = 'scale_up' | 'scale_down' | 'none';
export type ScalingBlock = 'cooldown' | 'max_voters' | 'min_voters' | 'not_enough_history' | null;

export interface ScalingFigures {
  windowMinutes: number;
  windowStart: string;
  windowEnd: string;
  /** Known scores in the window. */
  samples: number;
  /** Share of the window the known samples span, 0-1. */
  coverage: number;
  /** Longest hole between two known samples in the window (or before the first), ms. */
  longestGapMs: number;
  min: number | null;
  max: number | null;
  mean: number | null;
  latest: number | null;
  upThreshold: number;
  downThreshold: number;
}

export interface ScalingRecommendation {
  action: ScalingAction;
  /** Set when the action is warranted by the load but may not run now (bounds, cool-down) or the history is too short. */
  blockedBy: ScalingBlock;
  /** One sentence with the figures: "ensemble load stayed above 75 for 10 min (min 81.2, mean 88.0): grow 3 → 5 voters". */
  reason: string;
  currentVoters: number;
  /** Voters after the recommended change (= currentVoters when none). */
  targetVoters: number;
  /** One step per server, in order: the automatic mode runs them one at a time. */
  steps: { action: 'add' | 'remove'; role: 'participant' }[];
  figures: ScalingFigures;
  /** ISO end of the cool-down when one is running. */
  cooldownUntil: string | null;
  evaluatedAt: string;
}

/** The odd voter count to grow to (the next odd above `voters`), or null when it would pass `maxVoters`. */
export function scaleUpTarget(voters: number, maxVoters: number): number | null {
  const next = voters % 2 === 0 ? voters + 1 : voters + 2;
  return next <= maxVoters ? next : null;
}

/** The odd voter count to shrink to (the next odd below `voters`), or null when it would pass `minVoters`. */
export function scaleDownTarget(voters: number, minVoters: number): number | null {
  const next = voters % 2 === 0 ? voters - 1 : voters - 2;
  return next >= Math.max(1, minVoters) ? next : null;
}

const round1 = (x: number): number => Math.round(x * 10) / 10;

export function recommendScaling(
  history: readonly ScoreSample[],
  policy: ScalingPolicy,
  ctx: { now: number; voters: number; lastActionAt?: number | null; maxGapMs?: number },
): ScalingRecommendation {
  const windowMs = policy.forMinutes * 60_000;
  const maxGapMs = ctx.maxGapMs ?? Math.max(60_000, windowMs * 0.1);
  const { figures, coverage } = windowFigures(history, policy, ctx);
  const { samples, longestGapMs } = figures;
  const base = {
    currentVoters: ctx.voters,
    targetVoters: ctx.voters,
    steps: [] as ScalingRecommendation['steps'],
    figures,
    cooldownUntil: null as string | null,
    evaluatedAt: new Date(ctx.now).toISOString(),
  };
  const stats = `min ${figures.min ?? '?'}, mean ${figures.mean ?? '?'}, max ${figures.max ?? '?'} over ${samples} samples`;

  const enough = samples >= 2 && coverage >= 0.9 && longestGapMs <= maxGapMs;
  if (!enough) {
    return {
      ...base,
      action: 'none',
      blockedBy: 'not_enough_history',
      reason:
        `not enough load history for a ${policy.forMinutes}-minute window yet ` +
        `(${samples} samples covering ${Math.round(coverage * 100)} %, longest gap ${Math.round(longestGapMs / 1000)} s)`,
    };
  }

  const high = figures.min !== null && figures.min > policy.upThreshold;
  const low = figures.max !== null && figures.max < policy.downThreshold;
  if (!high && !low) {
    return {
      ...base,
      action: 'none',
      blockedBy: null,
      reason: `ensemble load between the thresholds for the last ${policy.forMinutes} min (${stats}; up above ${policy.upThreshold}, down below ${policy.downThreshold})`,
    };
  }
  return sustainedLoad(base, policy, ctx, high, stats);
}

/**
 * The figures of the known scores in the window ending now. `coverage`: the share of the window they span,
 * unrounded (the figures carry it rounded).
 */
function windowFigures(
  history: readonly ScoreSample[],
  policy: ScalingPolicy,
  ctx: ScalingContext,
): { figures: ScalingFigures; coverage: number } {
  const windowMs = policy.forMinutes * 60_000;
  const start = ctx.now - windowMs;
  const known = history
    .filter((s): s is { at: number; score: number } => s.score !== null && Number.isFinite(s.score) && s.at >= start && s.at <= ctx.now)
    .sort((a, b) => a.at - b.at);
  const scores = known.map((s) => s.score);
  let longestGapMs = known.length ? known[0]!.at - start : windowMs;
  for (let i = 1; i < known.length; i++) longestGapMs = Math.max(longestGapMs, known[i]!.at - known[i - 1]!.at);
  if (known.length) longestGapMs = Math.max(longestGapMs, ctx.now - known[known.length - 1]!.at);
  // Share of the window between the first and the last known sample: 90 % or more is "the whole window".
  const coverage = known.length ? Math.min(1, (known[known.length - 1]!.at - known[0]!.at) / windowMs) : 0;
  const figures: ScalingFigures = {
    windowMinutes: policy.forMinutes,
    windowStart: new Date(start).toISOString(),
    windowEnd: new Date(ctx.now).toISOString(),
    samples: known.length,
    coverage: Math.round(coverage * 1000) / 1000,
    longestGapMs,
    min: scores.length ? Math.min(...scores) : null,
    max: scores.length ? Math.max(...scores) : null,
    mean: scores.length ? round1(scores.reduce((a, b) => a + b, 0) / scores.length) : null,
    latest: scores.length ? scores[scores.length - 1]! : null,
    upThreshold: policy.upThreshold,
    downThreshold: policy.downThreshold,
  };
  return { figures, coverage };
}

type ScalingContext = Parameters<typeof recommendScaling>[2];

/** What every recommendation carries besides its action, block and reason. */
type RecommendationBase = Omit<ScalingRecommendation, 'action' | 'blockedBy' | 'reason'>;

/**
 * The load stayed beyond a threshold (`high`: above the upper one) over the whole window: the odd voter count to
 * move to, blocked by the policy's bounds or by a running cool-down.
 */
function sustainedLoad(
  base: RecommendationBase,
  policy: ScalingPolicy,
  ctx: ScalingContext,
  high: boolean,
  stats: string,
): ScalingRecommendation {
  const action: ScalingAction = high ? 'scale_up' : 'scale_down';
  const target = high ? scaleUpTarget(ctx.voters, policy.maxVoters) : scaleDownTarget(ctx.voters, policy.minVoters);
  const sustained = high
    ? `ensemble load stayed above ${policy.upThreshold} for ${policy.forMinutes} min (${stats})`
    : `ensemble load stayed below ${policy.downThreshold} for ${policy.forMinutes} min (${stats})`;
  if (target === null) {
    return {
      ...base,
      action,
      blockedBy: high ? 'max_voters' : 'min_voters',
      reason: high
        ? `${sustained}, but ${ctx.voters} voters is already the most the policy allows (max ${policy.maxVoters}, odd counts only)`
        : `${sustained}, but ${ctx.voters} voters is already the fewest the policy allows (min ${policy.minVoters}, odd counts only)`,
    };
  }
  const n = Math.abs(target - ctx.voters);
  const steps = Array.from({ length: n }, () => ({ action: high ? ('add' as const) : ('remove' as const), role: 'participant' as const }));
  const rec = { ...base, action, targetVoters: target, steps };
  const cooldownEnd = ctx.lastActionAt != null ? ctx.lastActionAt + policy.cooldownMinutes * 60_000 : null;
  if (cooldownEnd !== null && cooldownEnd > ctx.now) {
    return {
      ...rec,
      blockedBy: 'cooldown',
      cooldownUntil: new Date(cooldownEnd).toISOString(),
      reason: `${sustained}: ${high ? 'grow' : 'shrink'} ${ctx.voters} → ${target} voters, after the cool-down (until ${new Date(cooldownEnd).toISOString()})`,
    };
  }
  return { ...rec, blockedBy: null, reason: `${sustained}: ${high ? 'grow' : 'shrink'} ${ctx.voters} → ${target} voters` };
}

/** Policy checks a schema cannot express alone; returns the problems in words (empty when fine). */
export function scalingPolicyProblems(p: ScalingPolicy): string[] {
  const problems: string[] = [];
  if (p.downThreshold >= p.upThreshold) problems.push(`downThreshold (${p.downThreshold}) must be below upThreshold (${p.upThreshold})`);
  if (p.minVoters > p.maxVoters) problems.push(`minVoters (${p.minVoters}) must not exceed maxVoters (${p.maxVoters})`);
  return problems;
}
