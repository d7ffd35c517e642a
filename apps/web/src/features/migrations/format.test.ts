import { describe, expect, it } from 'vitest';

import { formatFraction, formatRate } from './format.ts';

describe('migration formats', () => {
  it('writes rates and fractions, with a dash when unknown', () => {
    expect(formatRate(1.5 * 1024 * 1024)).toBe('1.5 MiB/s');
    expect(formatRate(0)).toBe('—');
    expect(formatFraction(0.425)).toBe('42.5%');
    expect(formatFraction(null)).toBe('—');
  });
});
