import { describe, expect, it } from 'vitest';

import { useTempDb } from '../test-helpers.ts';
import { deleteFile, getFile, insertFile } from './files.ts';
import {
  commitMigrations,
  completeMigrations,
  countMigrationsByStatus,
  getMigration,
  getMigrationSources,
  insertMigrations,
  listOpenMigrations,
  listUnsettledMigrations,
  markMigrationsCopied,
  pathsOfFiles,
  startMigrations,
} from './migrations.ts';

const AT = '2026-01-01T00:00:00.000Z';

function file(i: number) {
  return {
    uuid: `u${i}`,
    name: `f${i}.bin`,
    node: 'zk1',
    path: `/s/zk1/f${i}.bin`,
    sizeBytes: 1000 * (i + 1),
    sha256: `${i}`.padStart(64, '0'),
    createdAt: AT,
    history: [{ action: 'created', node: 'zk1', at: AT }],
  };
}

function move(i: number) {
  const f = file(i);
  return {
    planId: 'p1',
    uuid: f.uuid,
    name: f.name,
    source: 'zk1',
    target: 'zk2',
    bytes: f.sizeBytes,
    sha256: f.sha256,
    sourcePath: f.path,
    targetPath: `/s/zk2/${f.name}`,
    tempPath: `/s/zk2/.mig-${i}.part`,
    status: 'pending' as const,
    phase: 'planned' as const,
    reason: 'test',
    createdAt: AT,
  };
}

describe('migrations journal repository', () => {
  const temp = useTempDb();

  it('insertMigrations returns exactly the rows the table holds (defaults included)', () => {
    const { db } = temp.open();
    const rows = insertMigrations(db, [move(0), { ...move(1), priority: 9, deadline: AT }]);
    expect(rows.map((r) => r.id)).toEqual([1, 2]);
    for (const r of rows) expect(getMigration(db, r.id)).toEqual(r);
    expect(listOpenMigrations(db)).toEqual(rows);
  });

  it('keeps who asked for a move (manual unless told), and counts the journal by status', () => {
    const { db } = temp.open();
    const [manual, auto] = insertMigrations(db, [move(0), { ...move(1), origin: 'auto' }]);
    expect([manual!.origin, auto!.origin]).toEqual(['manual', 'auto']);
    expect(getMigration(db, auto!.id)!.origin).toBe('auto');
    completeMigrations(db, [manual!.id], AT, 1);
    const totals = countMigrationsByStatus(db);
    expect(totals.completed).toEqual({ count: 1, bytes: 1000, bytesDone: 0 });
    expect(totals.pending).toEqual({ count: 1, bytes: 2000, bytesDone: 0 });
    expect(totals.failed).toEqual({ count: 0, bytes: 0, bytesDone: 0 });
  });

  it('walks a batch through the phases, one statement each, and commits only files still at their source', () => {
    const { db } = temp.open();
    for (let i = 0; i < 3; i++) insertFile(db, file(i));
    expect([...getMigrationSources(db, ['u0', 'u1', 'nope']).keys()].sort()).toEqual(['u0', 'u1']);
    const rows = insertMigrations(db, [move(0), move(1), move(2)]);
    const ids = rows.map((r) => r.id);

    startMigrations(db, ids, AT);
    expect(listUnsettledMigrations(db).map((m) => [m.status, m.phase, m.startedAt])).toEqual(ids.map(() => ['running', 'copying', AT]));
    markMigrationsCopied(db, ids);
    expect(ids.map((id) => getMigration(db, id)!.bytesDone)).toEqual([1000, 2000, 3000]);

    // File 2 was deleted meanwhile: its move is reported missing and its journal row left alone.
    deleteFile(db, 'u2');
    const entry = { action: 'migrate', from: 'zk1', to: 'zk2', at: AT };
    const { committed, missing } = commitMigrations(
      db,
      rows.map((r) => ({
        id: r.id,
        uuid: r.uuid,
        sourcePath: r.sourcePath,
        target: r.target,
        targetPath: r.targetPath,
        historyEntry: entry,
      })),
      AT,
    );
    expect(missing).toEqual([ids[2]]);
    expect([...committed.keys()]).toEqual([ids[0], ids[1]]);
    expect(committed.get(ids[0]!)).toEqual(getFile(db, 'u0'));
    expect(getFile(db, 'u0')).toMatchObject({
      node: 'zk2',
      path: '/s/zk2/f0.bin',
      history: [{ action: 'created' }, { action: 'migrate', from: 'zk1', to: 'zk2' }],
    });
    expect(ids.map((id) => getMigration(db, id)!.phase)).toEqual(['committed', 'committed', 'copied']);
    expect(pathsOfFiles(db, ['/s/zk2/f0.bin', '/s/zk1/f0.bin', '/s/zk1/f1.bin'])).toEqual(new Set(['/s/zk2/f0.bin']));

    // A second commit of the same move finds the row no longer at its source: nothing happens twice.
    expect(
      commitMigrations(
        db,
        [{ id: ids[0]!, uuid: 'u0', sourcePath: '/s/zk1/f0.bin', target: 'zk2', targetPath: '/s/zk2/f0.bin', historyEntry: entry }],
        AT,
      ).missing,
    ).toEqual([ids[0]]);
    expect(getFile(db, 'u0')!.history).toHaveLength(2);

    completeMigrations(db, [ids[0]!, ids[1]!], AT, 0.5);
    expect([getMigration(db, ids[0]!), getMigration(db, ids[1]!)]).toMatchObject([
      { status: 'completed', phase: 'cleaned', finishedAt: AT, throughput: 2000 },
      { status: 'completed', phase: 'cleaned', finishedAt: AT, throughput: 4000 },
    ]);
    // Without a duration (recovery) the throughput stays as it was.
    completeMigrations(db, [ids[0]!], AT);
    expect(getMigration(db, ids[0]!)!.throughput).toBe(2000);
    expect(listUnsettledMigrations(db).map((m) => m.id)).toEqual([ids[2]]);
  });
});
