import { describe, expect, it } from 'vitest';

import type { FileRecord } from '@zkha/core';

import { FileIndex } from './file-index.ts';

function rec(uuid: string, node: string, createdAt: string): FileRecord {
  return {
    uuid,
    name: `${uuid}.bin`,
    node,
    path: `/d/${node}/${uuid}.bin`,
    sizeBytes: 10,
    sha256: 'x',
    createdAt,
    updatedAt: createdAt,
    history: [{ action: 'created', node, at: createdAt }],
  };
}

describe('FileIndex', () => {
  it('keeps files newest first and counts per node through adds, moves and removes', () => {
    const idx = new FileIndex();
    idx.add(rec('a', 'zk1', '2026-01-01T00:00:01Z'));
    idx.add(rec('b', 'zk1', '2026-01-01T00:00:03Z'));
    idx.add(rec('c', 'zk2', '2026-01-01T00:00:02Z')); // older than the newest: forces a re-sort
    expect(idx.list().map((f) => f.uuid)).toEqual(['b', 'c', 'a']);
    expect(idx.counts(['zk1', 'zk2', 'zk3'])).toEqual({ zk1: 2, zk2: 1, zk3: 0 });

    idx.move('b', 'zk3', 'auto_migrate');
    expect(idx.counts(['zk1', 'zk2', 'zk3'])).toEqual({ zk1: 1, zk2: 1, zk3: 1 });
    expect(idx.list()[0]).toMatchObject({ uuid: 'b', node: 'zk3', historyLength: 2, lastAction: 'auto_migrate' });

    idx.remove('c');
    expect(idx.list().map((f) => f.uuid)).toEqual(['b', 'a']);
    expect(idx.counts(['zk1', 'zk2', 'zk3'])).toEqual({ zk1: 1, zk2: 0, zk3: 1 });
    expect(idx.size).toBe(2);
  });

  it('orders ties on creation time by uuid, like the database query', () => {
    const idx = new FileIndex();
    idx.load([
      { uuid: 'z', name: 'z', node: 'zk1', sizeBytes: 1, createdAt: '2026-01-01T00:00:00Z', historyLength: 1, lastAction: null },
      { uuid: 'a', name: 'a', node: 'zk1', sizeBytes: 1, createdAt: '2026-01-01T00:00:00Z', historyLength: 1, lastAction: null },
    ]);
    expect(idx.list().map((f) => f.uuid)).toEqual(['a', 'z']);
  });

  it('keeps files and bytes per node in step through add, move and remove', () => {
    const idx = new FileIndex();
    idx.load([
      { uuid: 'a', name: 'a', node: 'zk1', sizeBytes: 100, createdAt: '2026-01-01T00:00:00Z', historyLength: 1, lastAction: null },
      { uuid: 'b', name: 'b', node: 'zk1', sizeBytes: 30, createdAt: '2026-01-01T00:00:01Z', historyLength: 1, lastAction: null },
    ]);
    expect(idx.usage('zk1')).toEqual({ files: 2, bytes: 130 });
    idx.move('a', 'zk2', 'migrate');
    expect(idx.usage('zk1')).toEqual({ files: 1, bytes: 30 });
    expect(idx.usage('zk2')).toEqual({ files: 1, bytes: 100 });
    idx.remove('b');
    expect(idx.usage('zk1')).toEqual({ files: 0, bytes: 0 });
    expect(idx.usage('zk3')).toEqual({ files: 0, bytes: 0 });
  });
});
