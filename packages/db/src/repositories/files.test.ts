import { describe, expect, it } from 'vitest';
import { AppError, type FileRecord } from '@zkha/core';
import { useTempDb } from '../test-helpers.ts';
import {
  countFiles,
  countFilesByNode,
  deleteFile,
  getFile,
  insertFile,
  insertFiles,
  listAllFiles,
  listFiles,
  filesForPlanning,
  listFilesForPlanning,
  moveFileRecord,
  pagesOfFiles,
  projectFiles,
  removeFilesExcept,
  updateFile,
  type NewFileRecord,
} from './files.ts';

function fileRec(i: number, overrides: Partial<NewFileRecord> = {}): NewFileRecord {
  const node = ['zk1', 'zk2', 'zk3'][i % 3] ?? 'zk1';
  return {
    uuid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    name: `demo-${i}.bin`,
    node,
    path: `/data/${node}/demo-${i}.bin`,
    sizeBytes: 1024 + i,
    sha256: `sha-${i}`,
    // one file per second, so a higher i is newer
    createdAt: new Date(Date.UTC(2024, 0, 1) + i * 1000).toISOString(),
    ...overrides,
  };
}

function expectAppError(fn: () => unknown, code: string): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe(code);
    return;
  }
  throw new Error(`expected AppError ${code}, nothing was thrown`);
}

describe('files repository', () => {
  const temp = useTempDb();

  it('inserts and reads back a record with JSON history and camelCase fields', () => {
    const { db } = temp.open();
    const rec: FileRecord = {
      uuid: 'f-1',
      name: 'a.bin',
      node: 'zk1',
      path: '/data/zk1/a.bin',
      sizeBytes: 4096,
      sha256: 'ab'.repeat(32),
      createdAt: '2024-01-01T00:00:00.000Z',
      updatedAt: '2024-01-01T00:00:01.000Z',
      history: [{ action: 'created', node: 'zk1', at: '2024-01-01T00:00:00.000Z' }],
    };
    expect(insertFile(db, rec)).toEqual(rec);
    expect(getFile(db, 'f-1')).toEqual(rec);
    expect(getFile(db, 'missing')).toBeNull();
  });

  it('defaults history to [] and updatedAt to createdAt', () => {
    const { db } = temp.open();
    const created = insertFile(db, fileRec(1));
    expect(created.history).toEqual([]);
    expect(created.updatedAt).toBe(created.createdAt);
  });

  it('rejects a duplicate uuid with CONFLICT', () => {
    const { db } = temp.open();
    insertFile(db, fileRec(1));
    expectAppError(() => insertFile(db, fileRec(1, { name: 'other' })), 'CONFLICT');
  });

  it('lists newest first with node filter, total, offset and cursor paging', () => {
    const { db } = temp.open();
    insertFiles(
      db,
      Array.from({ length: 30 }, (_, i) => fileRec(i)),
    );

    const first = listFiles(db, { limit: 7 });
    expect(first.total).toBe(30);
    expect(first.items.map((f) => f.name)).toEqual([29, 28, 27, 26, 25, 24, 23].map((i) => `demo-${i}.bin`));
    expect(first.nextCursor).not.toBeNull();

    const second = listFiles(db, { limit: 7, cursor: first.nextCursor });
    expect(second.items.map((f) => f.name)).toEqual([22, 21, 20, 19, 18, 17, 16].map((i) => `demo-${i}.bin`));

    const byOffset = listFiles(db, { limit: 7, offset: 7 });
    expect(byOffset.items).toEqual(second.items);

    // walking all pages by cursor visits every row exactly once
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = listFiles(db, { limit: 4, cursor });
      seen.push(...page.items.map((f) => f.uuid));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toHaveLength(30);
    expect(new Set(seen).size).toBe(30);

    const zk2 = listFiles(db, { node: 'zk2', limit: 100 });
    expect(zk2.total).toBe(10);
    expect(zk2.items.every((f) => f.node === 'zk2')).toBe(true);
    expect(zk2.nextCursor).toBeNull();
    expect(zk2.items.map((f) => f.createdAt)).toEqual([...zk2.items.map((f) => f.createdAt)].sort().reverse());

    expect(listFiles(db, { node: 'zk9' })).toEqual({ items: [], total: 0, nextCursor: null });
  });

  it('breaks created_at ties by uuid so paging is deterministic', () => {
    const { db } = temp.open();
    const at = '2024-05-05T00:00:00.000Z';
    insertFiles(
      db,
      ['c', 'a', 'b'].map((u) => ({ ...fileRec(0), uuid: u, createdAt: at })),
    );
    insertFile(db, { ...fileRec(0), uuid: 'z', createdAt: '2024-05-06T00:00:00.000Z' });
    expect(listAllFiles(db).map((f) => f.uuid)).toEqual(['z', 'a', 'b', 'c']);
    const p1 = listFiles(db, { limit: 2 });
    const p2 = listFiles(db, { limit: 2, cursor: p1.nextCursor });
    expect([...p1.items, ...p2.items].map((f) => f.uuid)).toEqual(['z', 'a', 'b', 'c']);
    expect(p2.nextCursor).toBeNull();
  });

  it('rejects a garbled cursor with BAD_INPUT', () => {
    const { db } = temp.open();
    expectAppError(() => listFiles(db, { cursor: 'not-a-cursor' }), 'BAD_INPUT');
  });

  it('counts files per node and in total', () => {
    const { db } = temp.open();
    insertFiles(
      db,
      Array.from({ length: 10 }, (_, i) => fileRec(i)),
    );
    expect(countFilesByNode(db)).toEqual({ zk1: 4, zk2: 3, zk3: 3 });
    expect(countFiles(db)).toBe(10);
    expect(countFiles(db, 'zk1')).toBe(4);
  });

  it('updates selected fields and bumps updatedAt', () => {
    const { db } = temp.open();
    const created = insertFile(db, fileRec(1));
    const updated = updateFile(db, created.uuid, { name: 'renamed.bin', sizeBytes: 7 });
    expect(updated.name).toBe('renamed.bin');
    expect(updated.sizeBytes).toBe(7);
    expect(updated.sha256).toBe(created.sha256);
    expect(updated.updatedAt > created.updatedAt).toBe(true);
    expect(getFile(db, created.uuid)).toEqual(updated);
    expectAppError(() => updateFile(db, 'missing', { name: 'x' }), 'FILE_NOT_FOUND');
  });

  it('moves a record and appends history entries in order', () => {
    const { db } = temp.open();
    const created = insertFile(db, fileRec(1, { history: [{ action: 'created', node: 'zk2', at: 't0' }] }));
    const moved = moveFileRecord(db, created.uuid, {
      node: 'zk3',
      path: '/data/zk3/demo-1.bin',
      historyEntry: { action: 'auto_migrate', from: 'zk2', to: 'zk3', at: 't1' },
      updatedAt: '2025-01-01T00:00:00.000Z',
    });
    expect(moved).toMatchObject({ node: 'zk3', path: '/data/zk3/demo-1.bin', updatedAt: '2025-01-01T00:00:00.000Z' });
    const again = moveFileRecord(db, created.uuid, {
      node: 'zk1',
      path: '/data/zk1/demo-1.bin',
      historyEntry: { action: 'manual_migrate', from: 'zk3', to: 'zk1', at: 't2' },
    });
    expect(again.history).toEqual([
      { action: 'created', node: 'zk2', at: 't0' },
      { action: 'auto_migrate', from: 'zk2', to: 'zk3', at: 't1' },
      { action: 'manual_migrate', from: 'zk3', to: 'zk1', at: 't2' },
    ]);
    expect(getFile(db, created.uuid)?.history).toHaveLength(3);
    expectAppError(
      () => moveFileRecord(db, 'missing', { node: 'zk1', path: '/x', historyEntry: { action: 'a', at: 't' } }),
      'FILE_NOT_FOUND',
    );
  });

  it('stores history as a real JSON array that SQLite can inspect', () => {
    const { db, sqlite } = temp.open();
    insertFile(db, fileRec(1));
    moveFileRecord(db, fileRec(1).uuid, { node: 'zk2', path: '/p', historyEntry: { action: 'auto_migrate', at: 't' } });
    const row = sqlite.prepare("select json_type(history) as t, json_extract(history, '$[0].action') as a from files").get() as {
      t: string;
      a: string;
    };
    expect(row).toEqual({ t: 'array', a: 'auto_migrate' });
  });

  it('deletes and reports whether a row existed', () => {
    const { db } = temp.open();
    insertFile(db, fileRec(1));
    expect(deleteFile(db, fileRec(1).uuid)).toBe(true);
    expect(deleteFile(db, fileRec(1).uuid)).toBe(false);
    expect(getFile(db, fileRec(1).uuid)).toBeNull();
  });

  it('lets several repository calls share one transaction', () => {
    const { db } = temp.open();
    expect(() =>
      db.transaction((tx) => {
        insertFile(tx, fileRec(1));
        insertFile(tx, fileRec(2));
        throw new Error('abort');
      }),
    ).toThrow('abort');
    expect(countFiles(db)).toBe(0);
    db.transaction((tx) => {
      insertFile(tx, fileRec(1));
      moveFileRecord(tx, fileRec(1).uuid, { node: 'zk3', path: '/p', historyEntry: { action: 'auto_migrate', at: 't' } });
    });
    expect(getFile(db, fileRec(1).uuid)?.node).toBe('zk3');
  });

  it('rolls back a bulk insert entirely when one row conflicts', () => {
    const { db } = temp.open();
    insertFile(db, fileRec(5));
    expectAppError(() => insertFiles(db, [fileRec(4), fileRec(5), fileRec(6)]), 'CONFLICT');
    expect(countFiles(db)).toBe(1);
  });

  it('lists lean planning rows with history length and last action', () => {
    const { db } = temp.open();
    insertFile(db, fileRec(1));
    insertFile(
      db,
      fileRec(2, {
        history: [
          { action: 'created', at: 'a' },
          { action: 'auto_migrate', at: 'b' },
        ],
      }),
    );
    expect(listFilesForPlanning(db)).toEqual([
      {
        uuid: fileRec(2).uuid,
        name: 'demo-2.bin',
        node: 'zk3',
        sizeBytes: 1026,
        createdAt: fileRec(2).createdAt,
        historyLength: 2,
        lastAction: 'auto_migrate',
      },
      {
        uuid: fileRec(1).uuid,
        name: 'demo-1.bin',
        node: 'zk2',
        sizeBytes: 1025,
        createdAt: fileRec(1).createdAt,
        historyLength: 0,
        lastAction: null,
      },
    ]);
  });

  it('handles 100,000 rows inserted in one transaction, planning rows newest first', { timeout: 120_000 }, () => {
    const { db } = temp.open();
    const n = 100_000;
    // insert in shuffled order so a correct result proves the ORDER BY, not insertion order
    const order = Array.from({ length: n }, (_, i) => i);
    let seed = 42;
    for (let i = n - 1; i > 0; i--) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      const j = seed % (i + 1);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    // insertFiles wraps all rows in one transaction
    insertFiles(
      db,
      order.map((i) => fileRec(i, { history: i % 10 === 0 ? [{ action: 'created', at: 'x' }] : [] })),
    );
    expect(countFiles(db)).toBe(n);

    const rows = listFilesForPlanning(db);
    expect(rows).toHaveLength(n);
    for (let k = 0; k < n; k++) {
      const i = n - 1 - k;
      const row = rows[k]!;
      if (row.uuid !== fileRec(i).uuid) throw new Error(`row ${k}: expected file ${i}, got ${row.uuid}`);
      if (row.historyLength !== (i % 10 === 0 ? 1 : 0)) throw new Error(`row ${k}: wrong historyLength`);
    }
    expect(rows[0]).toMatchObject({ name: `demo-${n - 1}.bin`, lastAction: null });
    expect(rows.at(-1)).toMatchObject({ name: 'demo-0.bin', historyLength: 1, lastAction: 'created' });
    expect(countFilesByNode(db)).toEqual({ zk1: 33_334, zk2: 33_333, zk3: 33_333 });
  });

  it('pages every file and every planning row in the order of the whole lists, across created_at ties', () => {
    const { db } = temp.open();
    // 25 files over 10 distinct created_at values: page edges fall inside runs of equal times
    insertFiles(
      db,
      Array.from({ length: 25 }, (_, i) => fileRec(i, { createdAt: fileRec(i % 10).createdAt, history: [{ action: `a${i}`, at: 'x' }] })),
    );
    for (const size of [1, 3, 7, 25, 100]) {
      const pages = [...pagesOfFiles(db, size)];
      expect(pages.every((p) => p.length <= size)).toBe(true);
      expect(pages.flat()).toEqual(listAllFiles(db));
      expect([...filesForPlanning(db, size)]).toEqual(listFilesForPlanning(db));
    }
    expect(listFilesForPlanning(db)).toHaveLength(25);
    expect([...pagesOfFiles(temp.open().db)]).toEqual([]);
  });

  it('projects records over existing rows (every field replaced, unchanged rows left alone), then removes the rows not kept', () => {
    const { db } = temp.open();
    insertFiles(db, [fileRec(1), fileRec(2), fileRec(3)]);
    const moved = {
      ...fileRec(2, {
        node: 'zk1',
        path: '/data/zk1/demo-2.bin',
        sizeBytes: 7,
        sha256: 'new',
        createdAt: fileRec(9).createdAt,
        updatedAt: 'u',
      }),
      history: [
        { action: 'created', at: 'a' },
        { action: 'manual_migrate', at: 'b' },
      ],
    };
    expect(projectFiles(db, [moved, fileRec(4)])).toBe(2);
    expect(getFile(db, moved.uuid)).toEqual(moved);
    // Rows already as the records say are not written again, and the count says so.
    expect(projectFiles(db, [moved, fileRec(4), fileRec(1)])).toBe(0);
    expect(projectFiles(db, [{ ...moved, history: [...moved.history, { action: 'x', at: 'c' }] }])).toBe(1);
    expect(projectFiles(db, [moved])).toBe(1);
    expect(getFile(db, fileRec(4).uuid)).toMatchObject({ uuid: fileRec(4).uuid, history: [] });
    expect(removeFilesExcept(db, new Set([moved.uuid, fileRec(4).uuid]))).toBe(2);
    expect(listAllFiles(db).map((f) => f.uuid)).toEqual([moved.uuid, fileRec(4).uuid]);
    expect(removeFilesExcept(db, new Set([moved.uuid, fileRec(4).uuid]))).toBe(0);
  });
});
