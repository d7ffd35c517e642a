import { describe, expect, it } from 'vitest';

import { validateAddNode, validateReason } from './validation.ts';

describe('validateAddNode', () => {
  it('sends a name alone, or with a capacity in bytes and a weight', () => {
    expect(validateAddNode({ node: ' st4 ', capacity: '', unit: 'GiB', weight: '' })).toEqual({ ok: true, input: { node: 'st4' } });
    expect(validateAddNode({ node: 'st4', capacity: 1.5, unit: 'GiB', weight: 2 })).toEqual({
      ok: true,
      input: { node: 'st4', capacityBytes: 1.5 * 1024 ** 3, weight: 2 },
    });
  });

  it('refuses what the API refuses, with its words', () => {
    const res = validateAddNode({ node: 'Bad Name', capacity: -1, unit: 'GiB', weight: 1001 });
    expect(res.ok).toBe(false);
    if (res.ok) return;
    expect(res.errors.node).toMatch(/node must be a short name/);
    expect(res.errors.capacity).toBe('must be more than 0');
    expect(res.errors.weight).toBe('must be at most 1000');
    expect(validateAddNode({ node: '', capacity: '', unit: 'GiB', weight: 1.5 })).toEqual({
      ok: false,
      errors: { node: 'enter a node name', weight: 'must be a whole number' },
    });
  });
});

describe('validateReason', () => {
  it('trims the reason and leaves an empty one out', () => {
    expect(validateReason('zk1', '  retiring the disk ')).toEqual({ ok: true, reason: 'retiring the disk' });
    expect(validateReason('zk1', '   ')).toEqual({ ok: true, reason: undefined });
    expect(validateReason('zk1', 'x'.repeat(501))).toEqual({ ok: false, error: 'must be at most 500 characters' });
  });
});
