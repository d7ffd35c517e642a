import { describe, expect, it } from 'vitest';

import { formatLoadValue, formatScore, formatShare, scoreColor } from './format.ts';

describe('ensemble formatting', () => {
  it('shows each load component in its unit', () => {
    expect(formatLoadValue(12.345, 'req/s')).toBe('12.3 req/s');
    expect(formatLoadValue(1234.5, 'req/s')).toBe(`${(1235).toLocaleString()} req/s`);
    expect(formatLoadValue(3.04, '%')).toBe('3 %');
    expect(formatLoadValue(64 * 1024 * 1024, 'bytes')).toBe('64.0 MiB');
    expect(formatLoadValue(null, 'ms')).toBe('—');
  });

  it('shows shares and scores plainly', () => {
    expect(formatShare(0.374)).toBe('37 %');
    expect(formatShare(null)).toBe('—');
    expect(formatScore(7)).toBe('7.0');
  });

  it('colours a score against the thresholds', () => {
    expect(scoreColor(null)).toBe('gray');
    expect(scoreColor(10)).toBe('teal');
    expect(scoreColor(50)).toBe('yellow');
    expect(scoreColor(80)).toBe('red');
    expect(scoreColor(80, 90, 10)).toBe('yellow');
  });
});
