import { describe, expect, it } from 'vitest';

import { moveCount, summarizeMoves } from './move-summary.ts';

const move = (name: string, from: string, to: string) => ({ uuid: name, name, from, to, sizeBytes: 1 });

describe('move operations in words', () => {
  it('reads one move as the file and its route', () => {
    expect(summarizeMoves({ trigger: 'auto', count: 1, moves: [move('a.bin', 'zk1', 'zk2')], reason: 'spread 8 files' })).toBe(
      'a.bin: zk1 → zk2 (spread 8 files)',
    );
  });

  it('reads a batch as its size and its routes', () => {
    const moves = [move('a', 'zk1', 'zk2'), move('b', 'zk1', 'zk2'), move('c', 'zk1', 'zk3')];
    expect(summarizeMoves({ trigger: 'manual', count: 3, moves })).toBe('3 moves: zk1 → zk2 ×2, zk1 → zk3');
  });

  it('still reads records written before batches', () => {
    expect(summarizeMoves({ file: 'a.bin', from: 'zk1', to: 'zk2', delta: 8, threshold: 5 })).toBe(
      'a.bin: zk1 → zk2 (delta 8, threshold 5)',
    );
  });

  it('counts the moves of move operations only', () => {
    expect(moveCount({ action: 'auto_migrate', details: { count: 12, moves: [] } })).toBe(12);
    expect(moveCount({ action: 'migrate', details: { moves: [move('a', 'zk1', 'zk2')] } })).toBe(1);
    expect(moveCount({ action: 'auto_migrate', details: { file: 'a' } })).toBe(1);
    expect(moveCount({ action: 'stress', details: { count: 12 } })).toBeNull();
  });
});
