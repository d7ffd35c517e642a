import { describe, expect, it } from 'vitest';

import { bytes, counts, countsChange, details, gapInUnit, inUnit, time } from './format.ts';
import { decimalNumber, onOff, wholeNumber } from './parse.ts';
import { operationLine } from './commands/logs.ts';

describe('format', () => {
  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1024, '1.0 KiB'],
    [128 * 1024, '128 KiB'],
    [5.5 * 1024 * 1024, '5.5 MiB'],
  ])('bytes(%d) = %s', (n, s) => expect(bytes(n)).toBe(s));

  it('time drops the T and the milliseconds', () => {
    expect(time('2025-11-22T01:13:04.512Z')).toBe('2025-11-22 01:13:04');
    expect(time(null)).toBe('-');
  });

  it('counts and details read as one line', () => {
    expect(counts({ zk1: 11, zk2: 1, zk3: 0 })).toBe('zk1 11 · zk2 1 · zk3 0');
    expect(details({ reason: 'disk swap', count: 3, nested: { a: 1 }, none: null, ok: true })).toBe('reason="disk swap" count=3 ok=true');
    expect(details({ text: 'x'.repeat(300) }, 20)).toHaveLength(20);
  });
});

describe('option parsers check syntax, not ranges (the server judges those)', () => {
  it('whole numbers', () => {
    expect(wholeNumber('12')).toBe(12);
    expect(wholeNumber('0')).toBe(0);
    expect(() => wholeNumber('abc')).toThrow('must be a whole number');
    expect(() => wholeNumber('1.5')).toThrow('must be a whole number');
  });

  it('decimals and on/off', () => {
    expect(decimalNumber('2.5')).toBe(2.5);
    expect(() => decimalNumber('soon')).toThrow('must be a number');
    expect([onOff('on'), onOff('OFF'), onOff('true'), onOff('no')]).toEqual([true, false, true, false]);
    expect(() => onOff('maybe')).toThrow('must be on or off');
  });
});

describe('operationLine', () => {
  const op = {
    id: 12,
    timestamp: '2025-11-22T01:13:04.512Z',
    action: 'drain',
    node: 'zk3',
    status: 'success',
    details: { reason: 'disk  swap' },
    beforeMetrics: null,
    afterMetrics: null,
  } as const;

  it('ends with who acted, when the server recorded it', () => {
    expect(operationLine({ ...op, actor: 'token:ci' })).toBe('2025-11-22 01:13:04 #12 drain zk3 success reason="disk  swap" by=token:ci');
    expect(operationLine({ ...op, details: {}, actor: null })).toBe('2025-11-22 01:13:04 #12 drain zk3 success');
  });
});

describe('scheduler figures', () => {
  it.each([
    ['files', 12, '12 files'],
    ['files', 1, '1 file'],
    ['files_per_weight', 3.25, '3.3 files/weight'],
    ['bytes', 1536 * 1024, '1.5 MiB'],
    ['percent', 42, '42.0%'],
  ] as const)('a %s value of %d reads "%s"', (unit, v, text) => expect(inUnit(unit, v)).toBe(text));

  it('shows an uncounted node as a dash, a percent spread as points', () => {
    expect(inUnit('files', null)).toBe('-');
    expect(gapInUnit('percent', 12)).toBe('12.0 pts');
    expect(gapInUnit('files', 5)).toBe('5 files');
  });

  it('lists the counts a round changed, or all when none did', () => {
    expect(countsChange({ zk1: 12, zk2: 0, zk3: 0 }, { zk1: 6, zk2: 3, zk3: 3 })).toBe('zk1 12 → 6 · zk2 0 → 3 · zk3 0 → 3');
    expect(countsChange({ zk1: 12, zk2: 0, zk3: 5 }, { zk1: 11, zk2: 1, zk3: 5 })).toBe('zk1 12 → 11 · zk2 0 → 1');
    expect(countsChange({ zk1: 1 }, { zk1: 1 })).toBe('zk1 1 → 1');
  });
});
