import { describe, expect, it } from 'vitest';

import {
  DEFAULT_SCALING_POLICY,
  recommendScaling,
  scaleDownTarget,
  scaleUpTarget,
  scalingPolicyProblems,
  type ScalingPolicy,
  type ScoreSample,
} from './scaling-policy.ts';

const MIN = 60_000;
const NOW = Date.parse('2025-01-01T12:00:00Z');
const policy: ScalingPolicy = { ...DEFAULT_SCALING_POLICY, upThreshold: 70, downThreshold: 20, forMinutes: 10, cooldownMinutes: 30 };

/** A synthetic series: one sample every `stepMs` over the last `minutes`, score from `f(minutesAgo)`. */
function series(minutes: number, f: (minutesAgo: number) => number | null, stepMs = 5_000): ScoreSample[] {
  const out: ScoreSample[] = [];
  for (let t = NOW - minutes * MIN; t <= NOW; t += stepMs) out.push({ at: t, score: f((NOW - t) / MIN) });
  return out;
}

describe('recommendScaling', () => {
  it('scales up after the score stayed above the threshold for the whole window: 3 → 5 voters in two adds', () => {
    const r = recommendScaling(
      series(15, () => 85),
      policy,
      { now: NOW, voters: 3 },
    );
    expect(r).toMatchObject({ action: 'scale_up', blockedBy: null, currentVoters: 3, targetVoters: 5 });
    expect(r.steps).toEqual([
      { action: 'add', role: 'participant' },
      { action: 'add', role: 'participant' },
    ]);
    expect(r.figures).toMatchObject({ min: 85, max: 85, mean: 85, latest: 85, windowMinutes: 10, upThreshold: 70 });
    expect(r.reason).toMatch(/stayed above 70 for 10 min \(min 85, mean 85, max 85 over \d+ samples\): grow 3 → 5 voters/);
  });

  it('does not scale up when one sample in the window dipped below the threshold', () => {
    const r = recommendScaling(
      series(15, (ago) => (Math.abs(ago - 4) < 0.05 ? 60 : 90)),
      policy,
      { now: NOW, voters: 3 },
    );
    expect(r.action).toBe('none');
    expect(r.figures.min).toBe(60);
    expect(r.reason).toMatch(/between the thresholds/);
  });

  it('only looks at the window: an old dip does not matter', () => {
    const r = recommendScaling(
      series(30, (ago) => (ago > 12 ? 10 : 90)),
      policy,
      { now: NOW, voters: 3 },
    );
    expect(r.action).toBe('scale_up');
  });

  it('scales down after a sustained low, 5 → 3', () => {
    const r = recommendScaling(
      series(12, () => 5),
      policy,
      { now: NOW, voters: 5 },
    );
    expect(r).toMatchObject({ action: 'scale_down', blockedBy: null, targetVoters: 3 });
    expect(r.steps).toHaveLength(2);
    expect(r.steps.every((s) => s.action === 'remove')).toBe(true);
  });

  it('holds at the bounds: no scale-down below minVoters, no scale-up past maxVoters', () => {
    const low = recommendScaling(
      series(12, () => 5),
      policy,
      { now: NOW, voters: 3 },
    );
    expect(low).toMatchObject({ action: 'scale_down', blockedBy: 'min_voters', targetVoters: 3, steps: [] });
    expect(low.reason).toMatch(/already the fewest the policy allows \(min 3/);
    const high = recommendScaling(
      series(12, () => 99),
      policy,
      { now: NOW, voters: 7 },
    );
    expect(high).toMatchObject({ action: 'scale_up', blockedBy: 'max_voters', targetVoters: 7 });
  });

  it('waits for enough history: a window not covered, or a hole in it', () => {
    const short = recommendScaling(
      series(4, () => 99),
      policy,
      { now: NOW, voters: 3 },
    );
    expect(short).toMatchObject({ action: 'none', blockedBy: 'not_enough_history' });
    expect(short.reason).toMatch(/not enough load history for a 10-minute window/);
    const holed = series(15, (ago) => (ago > 3 && ago < 6 ? null : 99));
    expect(recommendScaling(holed, policy, { now: NOW, voters: 3 }).blockedBy).toBe('not_enough_history');
    expect(recommendScaling([], policy, { now: NOW, voters: 3 }).figures).toMatchObject({ samples: 0, min: null, coverage: 0 });
  });

  it('reports the action but blocks it during the cool-down, with its end', () => {
    const r = recommendScaling(
      series(15, () => 90),
      policy,
      { now: NOW, voters: 3, lastActionAt: NOW - 10 * MIN },
    );
    expect(r).toMatchObject({ action: 'scale_up', blockedBy: 'cooldown', cooldownUntil: new Date(NOW + 20 * MIN).toISOString() });
    expect(
      recommendScaling(
        series(15, () => 90),
        policy,
        { now: NOW, voters: 3, lastActionAt: NOW - 31 * MIN },
      ).blockedBy,
    ).toBeNull();
  });

  it('moves an even voter count to the next odd one', () => {
    expect(
      recommendScaling(
        series(15, () => 90),
        policy,
        { now: NOW, voters: 4 },
      ),
    ).toMatchObject({ targetVoters: 5, steps: [{ action: 'add' }] });
    expect(
      recommendScaling(
        series(15, () => 1),
        policy,
        { now: NOW, voters: 4 },
      ),
    ).toMatchObject({ targetVoters: 3, steps: [{ action: 'remove' }] });
  });
});

describe('targets and policy checks', () => {
  it('keeps voter counts odd within the bounds', () => {
    expect([3, 4, 5, 6, 7].map((v) => scaleUpTarget(v, 7))).toEqual([5, 5, 7, 7, null]);
    expect([3, 4, 5, 6, 7].map((v) => scaleDownTarget(v, 3))).toEqual([null, 3, 3, 5, 5]);
  });

  it('says what is inconsistent', () => {
    expect(scalingPolicyProblems({ ...policy, downThreshold: 80 })).toEqual(['downThreshold (80) must be below upThreshold (70)']);
    expect(scalingPolicyProblems({ ...policy, minVoters: 9, maxVoters: 7 })).toEqual(['minVoters (9) must not exceed maxVoters (7)']);
    expect(scalingPolicyProblems(policy)).toEqual([]);
  });
});
