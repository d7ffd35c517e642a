import { describe, expect, it } from 'vitest';

import { formatValue } from './format.ts';

describe('a free-form value as text', () => {
  it('prints primitives as they are', () => {
    expect([formatValue('zk1'), formatValue(8), formatValue(true), formatValue(5n)]).toEqual(['zk1', '8', 'true', '5']);
  });

  it('prints null and undefined as the empty text given', () => {
    expect([formatValue(null), formatValue(undefined), formatValue(null, '—')]).toEqual(['', '', '—']);
  });

  it('prints objects and arrays as JSON, not "[object Object]"', () => {
    expect([formatValue({ code: 'NO_QUORUM' }), formatValue(['a', 1])]).toEqual(['{"code":"NO_QUORUM"}', '["a",1]']);
  });
});
