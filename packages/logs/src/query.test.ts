import { describe, expect, it } from 'vitest';
import { compileFilter, decodeCursor, encodeCursor, escapeHtml, ftsMatchExpression, markedToHtml, parseSearchText } from './query.ts';
import type { LogEntry } from './types.ts';

describe('parseSearchText', () => {
  it('splits words and "quoted phrases", with * for prefixes', () => {
    expect(parseSearchText('leader "election took" zx*')).toEqual([
      { text: 'leader', prefix: false },
      { text: 'election took', prefix: false },
      { text: 'zx', prefix: true },
    ]);
    expect(parseSearchText('"new elec"*')).toEqual([{ text: 'new elec', prefix: true }]);
  });

  it('keeps operators and punctuation as literal text and drops terms with no letter or digit', () => {
    expect(parseSearchText('-x a:b NEAR( ) * " ((')).toEqual([
      { text: '-x', prefix: false },
      { text: 'a:b', prefix: false },
      { text: 'NEAR(', prefix: false },
    ]);
    expect(parseSearchText('"unbalanced phrase')).toEqual([{ text: 'unbalanced phrase', prefix: false }]);
    expect(parseSearchText('')).toEqual([]);
    expect(parseSearchText('   ')).toEqual([]);
  });

  it('bounds the work: at most 32 terms', () => {
    expect(parseSearchText(Array.from({ length: 100 }, (_, i) => `w${i}`).join(' '))).toHaveLength(32);
  });
});

describe('ftsMatchExpression', () => {
  it('quotes every term (doubling inner quotes) and joins with AND', () => {
    expect(ftsMatchExpression(parseSearchText('say "hi there"* c:d NEAR('))).toBe('"say" AND "hi there"* AND "c:d" AND "NEAR("');
    // A quote inside a word closes it and opens a phrase that runs to the next quote (or the end).
    expect(ftsMatchExpression(parseSearchText('a"b NEAR( "x'))).toBe('"a" AND "b NEAR(" AND "x"');
    expect(ftsMatchExpression([{ text: 'say "hi"', prefix: true }])).toBe('"say ""hi"""*');
  });
});

describe('highlight HTML', () => {
  it('escapes the message before turning markers into <mark>', () => {
    expect(escapeHtml(`<a href="x">&'`)).toBe('&lt;a href=&quot;x&quot;&gt;&amp;&#39;');
    expect(markedToHtml('<b>\u0002leader\u0003</b>')).toBe('&lt;b&gt;<mark>leader</mark>&lt;/b&gt;');
  });
});

describe('cursors', () => {
  it('round-trips and rejects anything else with BAD_INPUT', () => {
    expect(decodeCursor(encodeCursor(12345))).toBe(12345);
    for (const bad of ['', 'x', Buffer.from('v1:-1').toString('base64url'), Buffer.from('v2:1').toString('base64url')]) {
      expect(() => decodeCursor(bad)).toThrowError(expect.objectContaining({ code: 'BAD_INPUT' }));
    }
  });
});

describe('compileFilter (live tails)', () => {
  const e = (over: Partial<LogEntry>): LogEntry => ({
    id: 1,
    ts: '2026-11-22T10:00:00.000Z',
    level: 'info',
    source: 'zk1',
    message: 'FOLLOWING - LEADER ELECTION TOOK - 25 MS',
    fields: null,
    ...over,
  });

  it('applies level, sources, time and phrase/prefix terms', () => {
    expect(compileFilter({ text: 'election took' })(e({}))).toBe(true);
    expect(compileFilter({ text: '"took election"' })(e({}))).toBe(false);
    expect(compileFilter({ text: 'elec*' })(e({}))).toBe(true);
    expect(compileFilter({ text: 'elec' })(e({}))).toBe(false);
    expect(compileFilter({ level: 'warn' })(e({}))).toBe(false);
    expect(compileFilter({ level: 'warn' })(e({ level: 'fatal' }))).toBe(true);
    expect(compileFilter({ sources: ['zk2', 'zk3'] })(e({}))).toBe(false);
    expect(compileFilter({ sources: [] })(e({}))).toBe(true);
    expect(compileFilter({ from: '2026-11-22T10:00:00.001Z' })(e({}))).toBe(false);
    expect(compileFilter({ to: '2026-11-22T10:00:00.000Z' })(e({}))).toBe(true);
    expect(compileFilter({ text: 'boom' })(e({ fields: { err: { message: 'Boom!' } } }))).toBe(true);
    expect(compileFilter({ text: 'électión' })(e({}))).toBe(true);
  });
});
