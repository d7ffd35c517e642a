import { describe, expect, it } from 'vitest';

import { AppError } from '../errors.ts';
import { checkManualMove, type ManualMoveFacts } from './manual-move.ts';

const MiB = 1024 * 1024;
const UUID = '11111111-1111-4111-8111-111111111111';

function facts(extra: Partial<ManualMoveFacts> = {}): ManualMoveFacts {
  return {
    uuid: UUID,
    target: 'zk2',
    file: { name: 'a.bin', node: 'zk1', sizeBytes: MiB },
    nodes: ['zk1', 'zk2', 'zk3'],
    drained: new Set(),
    offline: [],
    openMigration: null,
    targetBytes: 0,
    targetCapacityBytes: null,
    highWatermark: 0.9,
    ...extra,
  };
}

function refusal(f: ManualMoveFacts): AppError {
  try {
    checkManualMove(f);
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('checkManualMove', () => {
  it('gives the move when every rule holds', () => {
    expect(checkManualMove(facts())).toEqual({
      uuid: UUID,
      name: 'a.bin',
      from: 'zk1',
      to: 'zk2',
      sizeBytes: MiB,
      reason: expect.stringContaining('operator'),
    });
    // Exactly at the watermark is allowed: only past it is refused.
    expect(checkManualMove(facts({ targetBytes: 8 * MiB, targetCapacityBytes: 10 * MiB })).to).toBe('zk2');
    expect(checkManualMove(facts({ source: 'zk1' })).from).toBe('zk1');
  });

  it.each([
    ['an unknown target', { target: 'zk9' }, 'NODE_NOT_FOUND', /unknown target node "zk9": expected one of zk1, zk2, zk3/],
    ['an unknown source', { source: 'zk9' }, 'NODE_NOT_FOUND', /unknown source node "zk9"/],
    ['an unknown file', { file: null }, 'FILE_NOT_FOUND', /no file with uuid 1111/],
    ['a stale source', { source: 'zk3' }, 'CONFLICT', /a\.bin is on zk1, not on zk3: the task is stale/],
    ['the node it is on', { target: 'zk1' }, 'CONFLICT', /a\.bin is already on zk1/],
    [
      'a file already moving',
      { openMigration: { id: 42, status: 'running', source: 'zk1', target: 'zk3' } },
      'CONFLICT',
      /already moving: migration 42 \(running, zk1 → zk3\)/,
    ],
    ['a drained target', { drained: new Set(['zk2']) }, 'CONFLICT', /zk2 is drained/],
    ['an offline target', { offline: ['zk2'] }, 'CONFLICT', /zk2 is offline/],
    [
      'a target past its watermark',
      { targetBytes: 8.5 * MiB, targetCapacityBytes: 10 * MiB },
      'CONFLICT',
      /zk2 would hold 9\.5 MiB with a\.bin, past its 90% high watermark \(9\.0 MiB of 10\.0 MiB\)/,
    ],
  ] as const)('refuses %s', (_, extra, code, message) => {
    const err = refusal(facts(extra));
    expect(err.code).toBe(code);
    expect(err.message).toMatch(message);
  });

  it('applies no watermark when the capacity is unknown', () => {
    expect(checkManualMove(facts({ targetBytes: 1e15, targetCapacityBytes: null })).to).toBe('zk2');
  });
});
