import { describe, expect, it } from 'vitest';

import { appendProbe, bucketFor, chartStart, latestValues, MAX_POINTS, pivot } from './load-series.ts';

const iso = (ms: number) => new Date(ms).toISOString();
const sample = (node: string, ms: number, rps: number | null) => ({ node, at: iso(ms), rps });

describe('appendProbe', () => {
  const base = {
    minutes: 1,
    intervalMs: 1000,
    nodes: [
      { node: 'zk1', samples: [sample('zk1', 0, 1), sample('zk1', 30_000, 2)] },
      { node: 'zk2', samples: [sample('zk2', 30_000, 3)] },
    ],
    ensemble: [{ at: iso(30_000), score: 5 }],
  };

  it('appends each node’s sample, drops what leaves the window, keeps other fields', () => {
    const next = appendProbe(base, [sample('zk1', 70_000, 4), sample('zk2', 70_000, 5)], { at: iso(70_000), score: 6 });
    expect(next.intervalMs).toBe(1000);
    expect(next.nodes[0]!.samples.map((s) => s.rps)).toEqual([2, 4]);
    expect(next.nodes[1]!.samples.map((s) => s.rps)).toEqual([3, 5]);
    expect(next.ensemble.map((p) => p.score)).toEqual([5, 6]);
    // The cached history is not mutated.
    expect(base.nodes[0]!.samples).toHaveLength(2);
  });

  it('ignores a repeated probe and gives a new node a series of its own', () => {
    const again = appendProbe(base, [sample('zk1', 30_000, 9), sample('zk4', 30_000, 7)], { at: iso(30_000), score: 9 });
    expect(again.nodes[0]!.samples.map((s) => s.rps)).toEqual([1, 2]);
    expect(again.nodes.map((n) => n.node)).toEqual(['zk1', 'zk2', 'zk4']);
    expect(again.ensemble).toHaveLength(1);
  });

  it('leaves the history alone for an event without a time', () => {
    expect(appendProbe(base, [], null)).toBe(base);
  });
});

describe('pivot', () => {
  it('averages each node per bucket and leaves gaps for unknown values', () => {
    const rows = pivot(
      [
        { node: 'zk1', samples: [sample('zk1', 1_000, 2), sample('zk1', 1_500, 4), sample('zk1', 2_000, null)] },
        { node: 'zk2', samples: [sample('zk2', 1_000, 1)] },
      ],
      (s) => s.rps,
      { since: 0, bucketMs: 1_000 },
    );
    expect(rows).toEqual([
      { t: 1_000, zk1: 3, zk2: 1 },
      { t: 2_000, zk1: null, zk2: null },
    ]);
  });

  it('skips samples before `since`', () => {
    const rows = pivot([{ node: 'zk1', samples: [sample('zk1', 500, 1), sample('zk1', 5_000, 2)] }], (s) => s.rps, {
      since: 1_000,
      bucketMs: 1_000,
    });
    expect(rows).toEqual([{ t: 5_000, zk1: 2 }]);
  });
});

describe('bucketFor', () => {
  it('keeps an hour under the point budget and never goes below the probe interval', () => {
    expect(3_600_000 / bucketFor(3_600_000, 500)).toBeLessThanOrEqual(MAX_POINTS);
    expect(bucketFor(60_000, 500)).toBe(1_000);
    expect(bucketFor(10_000, 2_000)).toBe(2_000);
  });
});

describe('latestValues', () => {
  it('takes the last sample of each node, null when it has none', () => {
    expect(
      latestValues(
        [
          { node: 'zk1', samples: [sample('zk1', 1, 1), sample('zk1', 2, 7)] },
          { node: 'zk2', samples: [] },
        ],
        (s) => s.rps,
      ),
    ).toEqual([
      { node: 'zk1', value: 7 },
      { node: 'zk2', value: null },
    ]);
  });
});

describe('chartStart', () => {
  it('shows the whole window once the history covers it', () => {
    expect(chartStart(0, 600_000, 300_000)).toBe(300_000);
  });

  it('zooms in on a young history, never closer than a minute', () => {
    expect(chartStart(500_000, 600_000, 300_000)).toBe(495_000);
    expect(chartStart(590_000, 600_000, 300_000)).toBe(540_000);
    expect(chartStart(null, 600_000, 300_000)).toBe(540_000);
  });
});
