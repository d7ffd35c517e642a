import { describe, expect, it } from 'vitest';

import { validateStress } from './stress-validation.ts';

const base = { node: 'zk1', files: 12, sizeKb: 128, triggerScheduler: true };

describe('stress form validation (shared zod schema)', () => {
  it('accepts a normal request', () => {
    expect(validateStress(base)).toEqual({ ok: true, input: base });
  });
  it.each([
    [{ files: 0 }, 'files', /at least 1/],
    [{ files: 1_000_000 }, 'files', /at most 2000/],
    [{ files: '' }, 'files', /enter a number/],
    [{ files: 2.5 }, 'files', /whole number/],
    [{ sizeKb: 0 }, 'sizeKb', /at least 1 KiB/],
    [{ node: null }, 'node', /Choose a node/],
    [{ files: 2000, sizeKb: 16_384 }, 'files', /MiB per request/],
  ] as const)('%j is refused on %s', (patch, field, message) => {
    const r = validateStress({ ...base, ...patch });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors[field]).toMatch(message);
  });
});
