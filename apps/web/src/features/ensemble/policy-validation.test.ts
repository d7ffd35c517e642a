import { describe, expect, it } from 'vitest';

import { draftFromPolicy, policyDirty, validatePolicy } from './policy-validation.ts';

const policy = { auto: false, upThreshold: 75, downThreshold: 20, forMinutes: 10, cooldownMinutes: 30, minVoters: 3, maxVoters: 7 };

describe('validatePolicy', () => {
  it('passes a valid policy through as numbers', () => {
    expect(validatePolicy({ ...draftFromPolicy(policy), upThreshold: '80', auto: true })).toEqual({
      ok: true,
      policy: { ...policy, upThreshold: 80, auto: true },
    });
  });

  it('says "enter a number" for empty or non-numeric boxes', () => {
    expect(validatePolicy({ ...draftFromPolicy(policy), forMinutes: '', maxVoters: 'x' })).toEqual({
      ok: false,
      errors: { forMinutes: 'enter a number', maxVoters: 'enter a number' },
    });
  });

  it('refuses what the server refuses, in the form’s words', () => {
    const res = validatePolicy({ ...draftFromPolicy(policy), upThreshold: 101, minVoters: 2, forMinutes: 1.5 });
    expect(res).toEqual({
      ok: false,
      errors: { upThreshold: 'must be at most 100', minVoters: 'must be at least 3', forMinutes: 'must be a whole number' },
    });
  });

  it('checks the thresholds and the voter bounds against each other', () => {
    expect(validatePolicy({ ...draftFromPolicy(policy), downThreshold: 80 })).toEqual({
      ok: false,
      errors: { downThreshold: 'must be below the scale-up threshold' },
    });
    expect(validatePolicy({ ...draftFromPolicy(policy), minVoters: 9, maxVoters: 5 })).toEqual({
      ok: false,
      errors: { minVoters: 'must not exceed max voters' },
    });
  });
});

describe('policyDirty', () => {
  it('compares typed text with the saved numbers by value', () => {
    expect(policyDirty({ ...draftFromPolicy(policy), upThreshold: '75' }, policy)).toBe(false);
    expect(policyDirty({ ...draftFromPolicy(policy), upThreshold: '76' }, policy)).toBe(true);
    expect(policyDirty({ ...draftFromPolicy(policy), auto: true }, policy)).toBe(true);
  });
});
