import { describe, expect, it } from 'vitest';

import { formatDuration, formatFraction, formatRate } from './format.ts';

describe('migration formats', () => {
  it('writes durations in the largest readable unit', () => {
    expect(formatDuration(null)).toBe('—');
    expect(formatDuration(850)).toBe('850 ms');
    expect(formatDuration(42_000)).toBe('42 s');
    expect(formatDuration(185_000)).toBe('3 min 5 s');
    expect(formatDuration(2 * 3600_000 + 600_000)).toBe('2 h 10 min');
    expect(formatDuration(84 * 3600_000)).toBe('3.5 days');
  });

  it('writes rates and fractions, with a dash when unknown', () => {
    expect(formatRate(1.5 * 1024 * 1024)).toBe('1.5 MiB/s');
    expect(formatRate(0)).toBe('—');
    expect(formatFraction(0.425)).toBe('42.5%');
    expect(formatFraction(null)).toBe('—');
  });
});
