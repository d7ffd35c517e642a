import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { createDb } from './client.ts';

const MIGRATION_0006 = path.join(import.meta.dirname, '..', 'migrations', '0006_file_locations.sql');

describe('migration 0006: file locations', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('turns the absolute paths the disk-based version wrote into <node>/<name> locations, files and journal alike', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'zkha-db-'));
    dirs.push(dir);
    const db = createDb(path.join(dir, 'zkha.db'));
    try {
      // Rows as the disk-based version wrote them (absolute paths, a temp file per move), written after the
      // migrations ran; then 0006's statements once more, as an upgrade runs them.
      db.sqlite
        .prepare(
          `insert into files (uuid, name, node, path, size_bytes, sha256, created_at, updated_at) values ('u1', 'a.bin', 'zk2', '/srv/zkha/data/uploads/zk2/a.bin', 1, 'x', 't', 't')`,
        )
        .run();
      db.sqlite
        .prepare(
          `insert into files (uuid, name, node, path, size_bytes, sha256, created_at, updated_at) values ('u2', 'b.bin', 'zk1', 'zk1/b.bin', 1, 'y', 't', 't')`,
        )
        .run();
      const cols = db.sqlite.prepare(`pragma table_info(migrations)`).all() as { name: string; notnull: number; dflt_value: unknown }[];
      const values: Record<string, unknown> = {
        plan_id: 'p',
        uuid: 'u1',
        name: 'a.bin',
        source: 'zk2',
        target: 'zk3',
        bytes: 1,
        sha256: 'x',
        source_path: '/srv/zkha/data/uploads/zk2/a.bin',
        target_path: '/srv/zkha/data/uploads/zk3/a.bin',
        temp_path: '/srv/zkha/data/uploads/zk3/.mig-1.part',
        status: 'pending',
        phase: 'planned',
        created_at: 't',
      };
      const needed = cols.filter((c) => c.notnull && c.dflt_value === null && c.name !== 'id' && !(c.name in values));
      for (const c of needed) values[c.name] = c.name === 'priority' ? 5 : c.name.endsWith('_done') ? 0 : '';
      const names = Object.keys(values);
      db.sqlite.prepare(`insert into migrations (${names.join(', ')}) values (${names.map((n) => `@${n}`).join(', ')})`).run(values);
      for (const statement of readFileSync(MIGRATION_0006, 'utf8').split('--> statement-breakpoint')) db.sqlite.exec(statement);
      expect(db.sqlite.prepare('select uuid, path from files order by uuid').all()).toEqual([
        { uuid: 'u1', path: 'zk2/a.bin' },
        { uuid: 'u2', path: 'zk1/b.bin' },
      ]);
      expect(db.sqlite.prepare('select source_path, target_path, temp_path from migrations').all()).toEqual([
        { source_path: 'zk2/a.bin', target_path: 'zk3/a.bin', temp_path: '' },
      ]);
    } finally {
      db.close();
    }
  });
});
