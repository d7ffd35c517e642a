import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach } from 'vitest';
import { SqliteLogStore } from './sqlite-store.ts';
import type { NewLogEntry } from './types.ts';

/**
 * Fresh temp folders and SQLite log stores (real files, WAL included) per test, closed and removed
 * after it.
 */
export function useTemp(): { dir(): string; store(file?: string, options?: { now?: () => number }): SqliteLogStore } {
  const dirs: string[] = [];
  const stores: SqliteLogStore[] = [];
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const dir = (): string => {
    const d = mkdtempSync(path.join(tmpdir(), 'zkha-logs-'));
    dirs.push(d);
    return d;
  };
  return {
    dir,
    store(file, options = {}) {
      const s = new SqliteLogStore({ path: file ?? path.join(dir(), 'nested', 'logs.db'), ...options });
      stores.push(s);
      return s;
    },
  };
}

/** Polls `check` until it returns a truthy value (returned) or the time is up (throws with `what`). */
export async function waitFor<T>(check: () => Promise<T> | T, what: string, timeoutMs = 10_000, everyMs = 50): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

export function entry(message: string, over: Partial<NewLogEntry> = {}): NewLogEntry {
  return { ts: '2026-11-22T00:00:00.000Z', level: 'info', source: 'backend', message, fields: null, ...over };
}
