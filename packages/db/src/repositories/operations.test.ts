import { describe, expect, it } from 'vitest';
import { AppError } from '@zkha/core';
import { useTempDb } from '../test-helpers.ts';
import { latestOperationId, listOperations, operationsSince, recordOperation } from './operations.ts';

describe('operations repository', () => {
  const temp = useTempDb();

  function seed() {
    const database = temp.open();
    const { db } = database;
    const base = Date.UTC(2024, 0, 1);
    for (let i = 0; i < 12; i++) {
      recordOperation(db, {
        action: i % 2 === 0 ? 'auto_migrate' : 'drain',
        node: ['zk1', 'zk2', 'zk3'][i % 3] ?? null,
        status: i % 4 === 0 ? 'failed' : 'success',
        details: { file: `demo-${i}.bin`, note: i === 5 ? '100%_done' : 'plain' },
        timestamp: new Date(base + i * 60_000).toISOString(),
      });
    }
    recordOperation(db, { action: 'stress', status: 'skipped', timestamp: new Date(base + 12 * 60_000).toISOString() });
    return database;
  }

  it('records an operation with JSON columns and defaults', () => {
    const { db } = temp.open();
    const op = recordOperation(db, {
      action: 'manual_migrate',
      node: 'zk2',
      status: 'success',
      details: { uuid: 'u', nested: { a: [1, 2] } },
      beforeMetrics: { zk1: 3 },
      afterMetrics: { zk1: 2 },
    });
    expect(op.id).toBeGreaterThan(0);
    expect(op).toMatchObject({
      action: 'manual_migrate',
      node: 'zk2',
      status: 'success',
      details: { uuid: 'u', nested: { a: [1, 2] } },
      beforeMetrics: { zk1: 3 },
      afterMetrics: { zk1: 2 },
    });
    expect(Number.isNaN(Date.parse(op.timestamp))).toBe(false);

    const bare = recordOperation(db, { action: 'ping', status: 'skipped', timestamp: '2024-03-01T10:00:00+02:00' });
    expect(bare).toMatchObject({ node: null, details: {}, beforeMetrics: null, afterMetrics: null });
    expect(bare.timestamp).toBe('2024-03-01T08:00:00.000Z');
    expect(bare.id).toBe(op.id + 1);
  });

  it('rejects an unparsable timestamp with BAD_INPUT', () => {
    const { db } = temp.open();
    expect(() => recordOperation(db, { action: 'x', status: 'success', timestamp: 'yesterday-ish' })).toThrow(AppError);
  });

  it('lists newest first and filters by action, node, status and time range', () => {
    const { db } = seed();
    const all = listOperations(db, { limit: 100 });
    expect(all.total).toBe(13);
    expect(all.items.map((o) => o.id)).toEqual([...all.items.map((o) => o.id)].sort((a, b) => b - a));
    expect(all.nextCursor).toBeNull();

    expect(listOperations(db, { action: 'drain' }).items.every((o) => o.action === 'drain')).toBe(true);
    expect(listOperations(db, { action: 'drain' }).total).toBe(6);
    expect(listOperations(db, { node: 'zk1' }).total).toBe(4);
    expect(listOperations(db, { status: 'failed' }).total).toBe(3);
    expect(listOperations(db, { status: 'skipped' }).items.map((o) => o.action)).toEqual(['stress']);
    expect(listOperations(db, { action: 'auto_migrate', node: 'zk1', status: 'failed' }).items.map((o) => o.details['file'])).toEqual([
      'demo-0.bin',
    ]);
  });

  it('filters by inclusive time range, normalising timestamps', () => {
    const { db } = seed();
    const page = listOperations(db, { from: '2024-01-01T00:02:00Z', to: '2024-01-01T00:04:00.000Z' });
    expect(page.total).toBe(3);
    expect(page.items.map((o) => o.details['file'])).toEqual(['demo-4.bin', 'demo-3.bin', 'demo-2.bin']);
    expect(listOperations(db, { from: '2024-01-01T02:02:00+02:00' }).total).toBe(11);
    expect(() => listOperations(db, { to: 'garbage' })).toThrow(AppError);
  });

  it('searches text in action and details, treating LIKE wildcards literally', () => {
    const { db } = seed();
    expect(listOperations(db, { text: 'DEMO-7' }).items.map((o) => o.details['file'])).toEqual(['demo-7.bin']);
    expect(listOperations(db, { text: 'stre' }).items.map((o) => o.action)).toEqual(['stress']);
    expect(listOperations(db, { text: '100%_' }).total).toBe(1);
    expect(listOperations(db, { text: '%' }).total).toBe(1);
    // a raw LIKE '%_%' would match all 13 rows; escaped, only the underscores in auto_migrate and 100%_done match
    expect(listOperations(db, { text: '_' }).total).toBe(7);
  });

  it('pages by id cursor without gaps or repeats, total ignoring the cursor', () => {
    const { db } = seed();
    const ids: number[] = [];
    let cursor: number | null = null;
    let pages = 0;
    do {
      const page = listOperations(db, { limit: 5, cursor });
      expect(page.total).toBe(13);
      ids.push(...page.items.map((o) => o.id));
      cursor = page.nextCursor;
      pages++;
    } while (cursor !== null);
    expect(pages).toBe(3);
    expect(ids).toEqual(Array.from({ length: 13 }, (_, i) => 13 - i));
  });

  it('backfills operations after an id, oldest first, and reports the latest id', () => {
    const { db } = temp.open();
    expect(latestOperationId(db)).toBe(0);
    expect(operationsSince(db, 0)).toEqual([]);
    const a = recordOperation(db, { action: 'a', status: 'success' });
    const b = recordOperation(db, { action: 'b', status: 'success' });
    const c = recordOperation(db, { action: 'c', status: 'failed' });
    expect(latestOperationId(db)).toBe(c.id);
    expect(operationsSince(db, a.id).map((o) => o.action)).toEqual(['b', 'c']);
    expect(operationsSince(db, 0, 2)).toEqual([a, b]);
    expect(operationsSince(db, c.id)).toEqual([]);
  });
});
