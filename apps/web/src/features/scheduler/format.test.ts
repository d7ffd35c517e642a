import { describe, expect, it } from 'vitest';

import { formatGap, formatMoves, formatValue, runSummary, type RunSummaryInput } from './format.ts';

describe('scheduler figures', () => {
  it.each([
    ['files', 12, '12 files'],
    ['files', 1, '1 file'],
    ['files', 2.25, '2.3 files'],
    ['files_per_weight', 3.5, '3.5 files/weight'],
    ['bytes', 1536 * 1024, '1.5 MiB'],
    ['percent', 42, '42.0%'],
  ] as const)('a %s value of %d reads "%s"', (unit, value, text) => {
    expect(formatValue(unit, value)).toBe(text);
  });

  it('shows a node that is not counted as a dash', () => {
    expect(formatValue('files', null)).toBe('—');
  });

  it('reads a percent spread as points, the others as values', () => {
    expect(formatGap('percent', 12)).toBe('12.0 pts');
    expect(formatGap('files', 5)).toBe('5 files');
    expect(formatGap('bytes', 2048)).toBe('2.0 KiB');
  });

  it('counts moves', () => {
    expect(formatMoves(1)).toBe('1 move');
    expect(formatMoves(1200)).toMatch(/^1.200 moves$/);
  });

  it('sums up a round in the words of its mode', () => {
    const base: RunSummaryInput = {
      mode: 'whole_plan',
      executed: true,
      queued: 8,
      done: 6,
      failed: 0,
      pending: 2,
      error: null,
      before: { candidate: { name: 'a.bin' }, sourceNode: 'zk1', targetNode: 'zk2' },
      after: { message: 'balanced' },
    };
    expect(runSummary(base)).toBe('queued 8 moves: 6 done, 2 pending');
    expect(runSummary({ ...base, queued: 0, executed: false })).toBe('nothing moved: balanced');
    expect(runSummary({ ...base, mode: 'one_per_tick', queued: 1 })).toBe('moved a.bin: zk1 → zk2');
    expect(runSummary({ ...base, error: 'disk full' })).toBe('the round failed: disk full');
  });
});
