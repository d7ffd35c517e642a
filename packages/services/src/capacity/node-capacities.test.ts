import { describe, expect, it } from 'vitest';

import { isAppError } from '@zkha/core';

import { NodeCapacities, type FilesystemReport } from './node-capacities.ts';

/** NodeCapacities' own logic (which figures it combines, and its reservations) over plain inputs. */
const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

function capacities(
  opts: {
    used?: Record<string, number>;
    registered?: Record<string, number>;
    reports?: FilesystemReport[];
    defaultBytes?: number | null;
    perNode?: Record<string, number>;
  } = {},
) {
  return new NodeCapacities(
    {
      registered: (n) => opts.registered?.[n] ?? null,
      usedBytes: (n) => opts.used?.[n] ?? 0,
      filesystems: () => opts.reports ?? [],
    },
    { defaultBytes: opts.defaultBytes === undefined ? GiB : opts.defaultBytes, perNode: opts.perNode ?? {} },
  );
}

function codeOf(fn: () => unknown): string | null {
  try {
    fn();
    return null;
  } catch (err) {
    return isAppError(err) ? err.code : 'not an AppError';
  }
}

describe('NodeCapacities', () => {
  it('ignores the size of a disk the agents share, and bounds a node on its own filesystem by used + free', () => {
    const shared = capacities({
      reports: ['zk1', 'zk2', 'zk3'].map((node) => ({ node, filesystemBytes: 252 * GiB, freeBytes: 200 * GiB })),
    });
    expect(shared.of('zk1')).toMatchObject({ capacityBytes: GiB, source: 'configured', ownFilesystem: false });

    const own = capacities({
      used: { zk3: 100 * MiB },
      reports: [
        { node: 'zk1', filesystemBytes: 252 * GiB, freeBytes: 200 * GiB },
        { node: 'zk2', filesystemBytes: 252 * GiB, freeBytes: 200 * GiB },
        { node: 'zk3', filesystemBytes: 512 * MiB, freeBytes: 300 * MiB },
      ],
    });
    expect(own.of('zk3')).toMatchObject({ capacityBytes: 400 * MiB, source: 'filesystem', statedBytes: GiB, ownFilesystem: true });
    expect(own.of('zk1')).toMatchObject({ capacityBytes: GiB, ownFilesystem: false });
  });

  it('registered beats a per-node override, which beats the default; none at all leaves the capacity unknown', () => {
    const c = capacities({ registered: { store4: 3 * GiB }, perNode: { zk2: 2 * GiB, store4: 5 * GiB } });
    expect([c.capacityOf('zk1'), c.capacityOf('zk2'), c.capacityOf('store4')]).toEqual([GiB, 2 * GiB, 3 * GiB]);
    const none = capacities({ defaultBytes: null });
    expect(none.of('zk1')).toMatchObject({ capacityBytes: null, source: 'unknown' });
    expect(codeOf(() => none.reserve('zk1', 100 * GiB))).toBeNull();
  });

  it('reservations count as arriving: two puts cannot both take the last room, and a release gives it back', () => {
    const c = capacities({ used: { zk1: GiB - 10 * MiB } });
    const first = c.reserve('zk1', 6 * MiB);
    expect(codeOf(() => c.reserve('zk1', 6 * MiB))).toBe('NODE_FULL');
    expect(c.of('zk1').incomingBytes).toBe(6 * MiB);
    first.release();
    first.release(); // idempotent
    expect(c.of('zk1').incomingBytes).toBe(0);
    c.reserve('zk1', 6 * MiB).release();
  });

  it('a streamed reservation grows chunk by chunk and stops where the room ends, naming what was left', () => {
    const c = capacities({ used: { zk1: GiB - MiB } });
    const other = c.reserve('zk1', 256 * 1024);
    const upload = c.reserve('zk1', 0);
    upload.grow(512 * 1024);
    upload.grow(256 * 1024);
    let message = '';
    try {
      upload.grow(1);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toBe('zk1 is full: 1023 MiB of 1.0 GiB used and 256 KiB arriving, the file needs more than the 768 KiB left');
    upload.release();
    other.release();
    expect(c.of('zk1').incomingBytes).toBe(0);
  });
});
