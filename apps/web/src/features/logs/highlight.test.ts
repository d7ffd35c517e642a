import { describe, expect, it } from 'vitest';

import { matchesLogFilters, safeHighlight } from './highlight.ts';

describe('safeHighlight', () => {
  it('keeps escaped text with <mark> tags', () => {
    const html = 'LEADER <mark>ELECTION</mark> TOOK - 25 MS &lt;b&gt;';
    expect(safeHighlight(html)).toBe(html);
  });

  it('refuses any other tag or stray bracket', () => {
    expect(safeHighlight('<mark>x</mark><img src=x onerror=alert(1)>')).toBeNull();
    expect(safeHighlight('<mark class="a">x</mark>')).toBeNull();
    expect(safeHighlight('a > b')).toBeNull();
    expect(safeHighlight(null)).toBeNull();
  });
});

describe('matchesLogFilters', () => {
  const e = { level: 'warn', source: 'zk2', message: 'LEADER ELECTION TOOK - 20 MS' };
  it('applies level as a minimum, sources and words', () => {
    expect(matchesLogFilters(e, { level: 'info', sources: ['zk2'], text: 'election took' })).toBe(true);
    expect(matchesLogFilters(e, { level: 'error' })).toBe(false);
    expect(matchesLogFilters(e, { sources: ['zk1'] })).toBe(false);
    expect(matchesLogFilters(e, { text: 'snapshot' })).toBe(false);
  });
});
