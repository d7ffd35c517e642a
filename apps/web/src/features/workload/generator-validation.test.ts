import { describe, expect, it } from 'vitest';

import { validateGenerator } from './generator-validation.ts';

const current = { intervalSec: 10, maxFiles: 200, minSizeKb: 4, maxSizeKb: 64, extraClients: 2 };

describe('validateGenerator', () => {
  it('sends only what changed', () => {
    expect(validateGenerator({ ...current, intervalSec: 1 }, current)).toEqual({ ok: true, patch: { intervalSec: 1 } });
  });

  it('sends both sizes when one changed', () => {
    expect(validateGenerator({ ...current, maxSizeKb: 8 }, current)).toEqual({ ok: true, patch: { minSizeKb: 4, maxSizeKb: 8 } });
  });

  it('refuses what the server refuses, in plain words', () => {
    const res = validateGenerator({ ...current, intervalSec: 0, extraClients: '', minSizeKb: 100, maxSizeKb: 10 }, current);
    expect(res.ok).toBe(false);
    if (res.ok) return;
    expect(res.errors.intervalSec).toBe('must be at least 1');
    expect(res.errors.extraClients).toBe('enter a number');
  });

  it('refuses min above max', () => {
    const res = validateGenerator({ ...current, minSizeKb: 100, maxSizeKb: 10 }, current);
    expect(res).toEqual({ ok: false, errors: { minSizeKb: 'must not exceed the max size' } });
  });
});
