import { describe, expect, it } from 'vitest';

import { draftFromCaps, validateCaps, validateEnqueue } from './validation.ts';

const caps = { maxConcurrent: 4, maxPerNodeOut: 2, maxPerNodeIn: 2, bandwidthBytesPerSec: null };

describe('draftFromCaps', () => {
  it('shows unlimited bandwidth as unlimited, and whole MiB/s in MiB/s', () => {
    expect(draftFromCaps(caps)).toMatchObject({ unlimited: true, bandwidth: '' });
    expect(draftFromCaps({ ...caps, bandwidthBytesPerSec: 5 * 1024 * 1024 })).toMatchObject({
      unlimited: false,
      bandwidth: 5,
      unit: 'MiB/s',
    });
    expect(draftFromCaps({ ...caps, bandwidthBytesPerSec: 300 * 1024 })).toMatchObject({ bandwidth: 300, unit: 'KiB/s' });
  });
});

describe('validateCaps', () => {
  it('sends only what changed, bandwidth converted to bytes per second', () => {
    const draft = { ...draftFromCaps(caps), maxConcurrent: 8, unlimited: false, bandwidth: 512, unit: 'KiB/s' as const };
    expect(validateCaps(draft, caps)).toEqual({ ok: true, patch: { maxConcurrent: 8, bandwidthBytesPerSec: 512 * 1024 } });
  });

  it('sends null to lift a bandwidth cap, and nothing when nothing changed', () => {
    const capped = { ...caps, bandwidthBytesPerSec: 1024 * 1024 };
    expect(validateCaps({ ...draftFromCaps(capped), unlimited: true }, capped)).toEqual({
      ok: true,
      patch: { bandwidthBytesPerSec: null },
    });
    expect(validateCaps(draftFromCaps(capped), capped)).toEqual({ ok: true, patch: {} });
  });

  it('refuses what the server refuses, in the form’s words and units', () => {
    const res = validateCaps(
      { ...draftFromCaps(caps), maxConcurrent: 0, maxPerNodeOut: 65, maxPerNodeIn: '', unlimited: false, bandwidth: 0.5, unit: 'KiB/s' },
      caps,
    );
    expect(res).toEqual({
      ok: false,
      errors: {
        maxConcurrent: 'must be at least 1',
        maxPerNodeOut: 'must be at most 64',
        maxPerNodeIn: 'enter a number',
        bandwidth: 'must be at least 1.0 KiB/s',
      },
    });
    const whole = validateCaps({ ...draftFromCaps(caps), maxConcurrent: 2.5 }, caps);
    expect(whole).toEqual({ ok: false, errors: { maxConcurrent: 'must be a whole number' } });
  });

  it('asks for a rate when bandwidth is capped but left empty', () => {
    expect(validateCaps({ ...draftFromCaps(caps), unlimited: false, bandwidth: '' }, caps)).toEqual({
      ok: false,
      errors: { bandwidth: 'enter a rate, or choose unlimited' },
    });
  });
});

describe('validateEnqueue', () => {
  const now = Date.parse('2030-01-01T12:00:00Z');

  it('accepts a priority and no deadline', () => {
    expect(validateEnqueue({ strategy: 'bytes', priority: 7, deadline: '' }, now)).toEqual({
      ok: true,
      input: { strategy: 'bytes', priority: 7, deadline: null },
    });
  });

  it('turns a local deadline into an ISO instant', () => {
    const local = '2030-01-02T08:30';
    const res = validateEnqueue({ strategy: 'count', priority: '5', deadline: local }, now);
    expect(res).toEqual({ ok: true, input: { strategy: 'count', priority: 5, deadline: new Date(local).toISOString() } });
  });

  it('refuses a priority out of 1–10 and a deadline in the past', () => {
    expect(validateEnqueue({ strategy: 'count', priority: 11, deadline: '2029-12-31T00:00' }, now)).toEqual({
      ok: false,
      errors: { priority: 'must be at most 10', deadline: 'must be in the future' },
    });
    expect(validateEnqueue({ strategy: 'count', priority: '', deadline: 'soon' }, now)).toEqual({
      ok: false,
      errors: { priority: 'enter a number from 1 to 10', deadline: 'enter a date and time' },
    });
  });
});
