import { describe, expect, it } from 'vitest';

import {
  computeLoadScore,
  DEFAULT_LOAD_SCORE_CONFIG,
  describeLoadFormula,
  ensembleLoadScore,
  parseLoadComponentList,
  type LoadScoreConfig,
} from './load-score.ts';

const refs = { requests: 1000, latency: 10, cpu: 100, memory: 1000, disk: 1000 };
const equal: LoadScoreConfig = { weights: { requests: 1, latency: 1, cpu: 1, memory: 1, disk: 1 }, references: refs };

describe('computeLoadScore', () => {
  it('with equal weights is the plain average of value / reference, times 100', () => {
    const s = computeLoadScore({ requests: 500, latency: 2, cpu: 30, memory: 400, disk: 100 }, equal);
    // (0.5 + 0.2 + 0.3 + 0.4 + 0.1) / 5 = 0.3
    expect(s.score).toBe(30);
    expect(s.components.map((c) => [c.key, c.normalised])).toEqual([
      ['requests', 0.5],
      ['latency', 0.2],
      ['cpu', 0.3],
      ['memory', 0.4],
      ['disk', 0.1],
    ]);
  });

  it('clamps each component to [0, 1]: one saturated figure cannot outweigh the others', () => {
    const s = computeLoadScore({ requests: 50_000, latency: 0, cpu: 0, memory: 0, disk: 0 }, equal);
    expect(s.components[0]?.normalised).toBe(1);
    expect(s.score).toBe(20);
    expect(computeLoadScore({ requests: -5, latency: 0, cpu: 0, memory: 0, disk: 0 }, equal).components[0]?.normalised).toBe(0);
  });

  it('applies the weights', () => {
    const weighted: LoadScoreConfig = { ...equal, weights: { requests: 3, latency: 1, cpu: 0, memory: 0, disk: 0 } };
    // (3 x 1.0 + 1 x 0.0) / 4
    expect(computeLoadScore({ requests: 1000, latency: 0, cpu: 100, memory: 1000, disk: 1000 }, weighted).score).toBe(75);
  });

  it('leaves unknown components out of both sums rather than counting them as idle', () => {
    const s = computeLoadScore({ requests: 1000, latency: null, cpu: null, memory: null, disk: 0 }, equal);
    expect(s.score).toBe(50);
    expect(s.components.find((c) => c.key === 'cpu')?.normalised).toBeNull();
    expect(computeLoadScore({ requests: null, latency: null, cpu: null, memory: null, disk: null }, equal).score).toBeNull();
  });
});

describe('ensembleLoadScore', () => {
  it('is the mean of the known scores, with the busiest server alongside', () => {
    expect(ensembleLoadScore([10, 20, null, 60])).toEqual({ score: 30, max: 60, scored: 3 });
    expect(ensembleLoadScore([null, null])).toEqual({ score: null, max: null, scored: 0 });
  });
});

describe('describeLoadFormula', () => {
  it('names every weighted component with its reference and unit', () => {
    const f = describeLoadFormula(DEFAULT_LOAD_SCORE_CONFIG);
    expect(f).toMatch(/^score = 100 × \(1·min\(1, requests\/2000 req\/s\) \+ 1·min\(1, latency\/20 ms\)/);
    expect(f).toMatch(/\/ 5, over the components that are known; ensemble = mean/);
  });
});

describe('parseLoadComponentList', () => {
  it('reads component:value lists (":" or "=")', () => {
    expect(parseLoadComponentList('requests:2, latency=1.5,cpu:0', { min: 0 })).toEqual({ requests: 2, latency: 1.5, cpu: 0 });
    expect(parseLoadComponentList('', { min: 0 })).toEqual({});
  });

  it('names the bad entry', () => {
    expect(() => parseLoadComponentList('requests:1,iops:3', { min: 0 })).toThrow(/bad entry "iops:3"/);
    expect(() => parseLoadComponentList('memory:0', { min: 0, positive: true })).toThrow(/memory must be greater than 0/);
    expect(() => parseLoadComponentList('cpu:-1', { min: 0 })).toThrow(/bad entry "cpu:-1"/);
  });
});
