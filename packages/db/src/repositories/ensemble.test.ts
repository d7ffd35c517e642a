import { describe, expect, it } from 'vitest';

import { useTempDb } from '../test-helpers.ts';
import {
  getEnsembleSetting,
  insertEnsembleLoadSamples,
  listEnsembleLoadSamples,
  pruneEnsembleLoadSamples,
  setEnsembleSetting,
} from './ensemble.ts';

const row = (at: string, node: string, score: number | null) => ({
  at,
  node,
  samples: 60,
  score,
  requestsPerSec: 12.5,
  latencyAvgMs: 1.2,
  latencyMaxMs: 30,
  latencyP99Ms: 4,
  cpuPercent: 3.5,
  rssBytes: 70 * 1024 * 1024,
  connections: 4,
  znodeCount: 120,
  outstandingRequests: 0,
});

describe('ensemble repository', () => {
  const temp = useTempDb();

  it('keeps minute rows per server and for the ensemble, lists them oldest first by node and time, prunes the old ones', () => {
    const { db } = temp.open();
    insertEnsembleLoadSamples(db, [row('2025-01-01T10:01:00.000Z', 'zk1', 10), row('2025-01-01T10:01:00.000Z', '', 12)]);
    insertEnsembleLoadSamples(db, [row('2025-01-01T10:00:00.000Z', 'zk1', 8), row('2025-01-01T10:02:00.000Z', 'zk1', null)]);
    expect(listEnsembleLoadSamples(db, { node: 'zk1' }).map((r) => [r.at.slice(11, 16), r.score])).toEqual([
      ['10:00', 8],
      ['10:01', 10],
      ['10:02', null],
    ]);
    expect(listEnsembleLoadSamples(db, { node: '' }).map((r) => r.score)).toEqual([12]);
    expect(listEnsembleLoadSamples(db, { since: '2025-01-01T10:01:00.000Z' })).toHaveLength(3);
    expect(listEnsembleLoadSamples(db, { node: 'zk1' })[0]).toMatchObject({ rssBytes: 70 * 1024 * 1024, latencyMaxMs: 30, samples: 60 });
    expect(pruneEnsembleLoadSamples(db, '2025-01-01T10:01:00.000Z')).toBe(1);
    expect(listEnsembleLoadSamples(db)).toHaveLength(3);
  });

  it('stores a setting as JSON and replaces it', () => {
    const { db } = temp.open();
    expect(getEnsembleSetting(db, 'policy')).toBeNull();
    setEnsembleSetting(db, 'policy', { auto: true, upThreshold: 80 });
    setEnsembleSetting(db, 'policy', { auto: false, upThreshold: 70 });
    expect(getEnsembleSetting(db, 'policy')).toEqual({ auto: false, upThreshold: 70 });
  });
});
