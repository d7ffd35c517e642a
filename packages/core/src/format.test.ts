import { describe, expect, it } from 'vitest';

import { formatBytes, formatDuration, formatNumber, formatPercent } from './format.ts';

// The one way sizes and durations are written: the console, the CLI and the domain's messages all use these
// (before, three byte formatters rounded differently and two duration formatters said "1.5 s" and "2 s").
describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1536, '1.5 KiB'],
    [99.94 * 1024, '99.9 KiB'],
    [256 * 1024, '256 KiB'],
    [150 * 1024 * 1024, '150 MiB'],
    [3 * 1024 ** 3, '3.0 GiB'],
    [-2048, '-2.0 KiB'],
    [Number.POSITIVE_INFINITY, 'unlimited'],
    [null, '—'],
    [undefined, '—'],
  ])('%s → %s', (n, text) => {
    expect(formatBytes(n)).toBe(text);
  });
});

describe('formatDuration', () => {
  it.each([
    [850, '850 ms'],
    [1234, '1.2 s'],
    [1500, '1.5 s'],
    [2000, '2 s'],
    [42_300, '42 s'],
    [125_000, '2 min 5 s'],
    [180_000, '3 min'],
    [3_600_000, '1 h'],
    [2 * 3_600_000 + 600_000, '2 h 10 min'],
    [84 * 3_600_000, '3.5 days'],
    [Number.POSITIVE_INFINITY, 'never'],
    [null, '—'],
    [-1, '—'],
  ])('%s ms → %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe('numbers', () => {
  it('whole numbers as they are, others with one decimal; fractions as percentages', () => {
    expect([formatNumber(12), formatNumber(333.333), formatNumber(2.96)]).toEqual(['12', '333.3', '3']);
    expect(formatPercent(0.8512)).toBe('85.1%');
  });
});
