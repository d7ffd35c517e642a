import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { createDb, type Database } from './client.ts';

/**
 * A fresh SQLite file per call under a temp folder, closed and removed after the test, so tests exercise
 * the real file, WAL and migrations rather than an in-memory shortcut.
 */
export function useTempDb(): { open(): Database; dir(): string } {
  const opened: Database[] = [];
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of opened.splice(0)) d.close();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  return {
    dir() {
      const dir = mkdtempSync(join(tmpdir(), 'zkha-db-'));
      dirs.push(dir);
      return dir;
    },
    open() {
      const dir = mkdtempSync(join(tmpdir(), 'zkha-db-'));
      dirs.push(dir);
      const database = createDb(join(dir, 'nested', 'zkha.db'));
      opened.push(database);
      return database;
    },
  };
}
