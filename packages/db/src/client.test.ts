import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createDb, MIGRATIONS_FOLDER } from './client.ts';
import { insertFile, getFile } from './repositories/files.ts';
import { useTempDb } from './test-helpers.ts';

const journal = JSON.parse(readFileSync(join(MIGRATIONS_FOLDER, 'meta', '_journal.json'), 'utf8')) as {
  entries: { tag: string }[];
};

function tableNames(sqlite: { prepare(sql: string): { all(): unknown[] } }): string[] {
  return (sqlite.prepare("select name from sqlite_master where type = 'table' order by name").all() as { name: string }[]).map(
    (r) => r.name,
  );
}

describe('createDb', () => {
  const temp = useTempDb();

  it('creates the parent folder and applies every migration to a fresh file', () => {
    const dir = temp.dir();
    const path = join(dir, 'a', 'b', 'zkha.db');
    const database = createDb(path);
    try {
      expect(existsSync(path)).toBe(true);
      expect(tableNames(database.sqlite)).toEqual(
        expect.arrayContaining(['files', 'operations', 'tasks', 'node_states', '__drizzle_migrations']),
      );
      const applied = database.sqlite.prepare('select count(*) as n from __drizzle_migrations').get() as { n: number };
      expect(applied.n).toBe(journal.entries.length);
      const indexes = (
        database.sqlite.prepare("select name from sqlite_master where type = 'index' and name not like 'sqlite_%'").all() as {
          name: string;
        }[]
      ).map((r) => r.name);
      expect(indexes).toEqual(
        expect.arrayContaining([
          'files_node_idx',
          'files_created_at_idx',
          'operations_timestamp_idx',
          'operations_action_idx',
          'operations_node_idx',
          'tasks_status_idx',
        ]),
      );
    } finally {
      database.close();
    }
  });

  it('sets WAL, busy_timeout, foreign_keys and synchronous=NORMAL', () => {
    const { sqlite } = temp.open();
    expect(sqlite.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(sqlite.pragma('busy_timeout', { simple: true })).toBe(5000);
    expect(sqlite.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(sqlite.pragma('synchronous', { simple: true })).toBe(1); // 1 = NORMAL
    expect(sqlite.pragma('cache_size', { simple: true })).toBe(-4096); // 4 MiB, not better-sqlite3's 16
  });

  it('re-opens an existing file idempotently and keeps its data', () => {
    const path = join(temp.dir(), 'zkha.db');
    const first = createDb(path);
    insertFile(first.db, {
      uuid: 'u-1',
      name: 'a.bin',
      node: 'zk1',
      path: '/data/zk1/a.bin',
      sizeBytes: 1,
      sha256: 'x',
      createdAt: '2024-01-01T00:00:00.000Z',
    });
    first.close();
    first.close(); // closing twice is harmless

    const second = createDb(path);
    try {
      const applied = second.sqlite.prepare('select count(*) as n from __drizzle_migrations').get() as { n: number };
      expect(applied.n).toBe(journal.entries.length);
      expect(getFile(second.db, 'u-1')?.name).toBe('a.bin');
    } finally {
      second.close();
    }
  });

  it('finds its migrations whatever the working directory', () => {
    const cwd = process.cwd();
    process.chdir(temp.dir());
    try {
      const database = createDb(':memory:');
      expect(tableNames(database.sqlite)).toContain('files');
      database.close();
    } finally {
      process.chdir(cwd);
    }
  });

  it('supports :memory: databases, each private', () => {
    const a = createDb(':memory:');
    const b = createDb(':memory:');
    try {
      insertFile(a.db, {
        uuid: 'm-1',
        name: 'm.bin',
        node: 'zk1',
        path: '/m',
        sizeBytes: 0,
        sha256: 'x',
        createdAt: '2024-01-01T00:00:00.000Z',
      });
      expect(getFile(a.db, 'm-1')).not.toBeNull();
      expect(getFile(b.db, 'm-1')).toBeNull();
    } finally {
      a.close();
      b.close();
    }
  });

  it('rejects rows that break the status CHECK constraints', () => {
    const { sqlite } = temp.open();
    expect(() =>
      sqlite.prepare("insert into operations (timestamp, action, status) values ('2024-01-01T00:00:00.000Z', 'x', 'bogus')").run(),
    ).toThrow(/CHECK constraint failed/);
    expect(() => sqlite.prepare("insert into tasks (status, created_at, updated_at) values ('nope', 'a', 'b')").run()).toThrow(
      /CHECK constraint failed/,
    );
  });
});
