import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createDb, listFiles, listMigrations, listOperations } from '@zkha/db';
import { FileStorage } from '@zkha/storage';
import { ZkSession } from '@zkha/zk';
import { startTestEnsemble, type TestEnsemble } from '@zkha/zk/testing';

import { findInconsistencies } from './consistency.ts';
import { FileMetadataRegistry } from './file-metadata.ts';

/**
 * Crash safety of the link path (no bandwidth cap, one filesystem): a process running the real services is
 * SIGKILLed at random points while batches of hard-link moves run, again and again, then a last run finishes
 * the queue. Every file must exist once, with its checksum, and disk, database and ZooKeeper must agree.
 * (apps/server's crash test does the same through the HTTP server for the capped, chunked-copy path.)
 */
const CHILD = fileURLToPath(new URL('./migration-crash.child.ts', import.meta.url));
const KILLS = 12;
const FILES = 1500;

let ensemble: TestEnsemble;
let dir: string;
let env: NodeJS.ProcessEnv;
let child: ChildProcess | null = null;

/** Runs the child in `mode` until it prints `until`; returns it (still running unless it exited). */
async function run(mode: 'seed' | 'work' | 'finish', until: string): Promise<ChildProcess> {
  const proc = spawn(process.execPath, ['--import', 'tsx', CHILD], { env: { ...env, ZKHA_CHILD: mode }, stdio: ['ignore', 'pipe', 'pipe'] });
  child = proc;
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`child (${mode}) did not print ${until} in 180 s:\n${out.slice(-2000)}`)), 180_000);
    const onData = (b: Buffer) => {
      out += b.toString();
      if (out.includes(until)) {
        clearTimeout(timer);
        resolve();
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', (b: Buffer) => (out += b.toString()));
    proc.once('exit', (code) => {
      clearTimeout(timer);
      if (!out.includes(until)) reject(new Error(`child (${mode}) exited with ${code}:\n${out.slice(-2000)}`));
    });
  });
  return proc;
}

async function exited(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  await new Promise((r) => proc.once('exit', r));
}

beforeAll(async () => {
  ensemble = await startTestEnsemble({ size: 3 });
  dir = await mkdtemp(path.join(tmpdir(), 'zkha-linkcrash-'));
  env = {
    ...process.env,
    ZKHA_MEMBERS: JSON.stringify(ensemble.nodes.map((n) => ({ name: n.name, host: '127.0.0.1', port: n.clientPort }))),
    ZKHA_ZK: ensemble.connectionString,
    ZKHA_DB: path.join(dir, 'zkha.db'),
    ZKHA_ROOT: path.join(dir, 'uploads'),
    ZKHA_FILES: String(FILES),
  };
}, 120_000);

afterAll(async () => {
  if (child && child.exitCode === null && child.signalCode === null) {
    child.kill('SIGKILL');
    await exited(child);
  }
  await ensemble?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('SIGKILL during link-path batches', () => {
  it(`${KILLS} kills: nothing lost, nothing duplicated, disk = database = ZooKeeper`, async () => {
    await exited(await run('seed', 'SEEDED'));
    const nodes = ensemble.nodes.map((n) => n.name);
    const database = createDb(env.ZKHA_DB!);
    const before = new Map(listFiles(database.db, { limit: 1000, offset: 0 }).items.map((f) => [f.uuid, f.sha256]));
    for (let offset = 1000; offset < FILES; offset += 1000) for (const f of listFiles(database.db, { limit: 1000, offset }).items) before.set(f.uuid, f.sha256);
    expect(before.size).toBe(FILES);

    const completedAtKill: number[] = [];
    for (let i = 0; i < KILLS; i++) {
      const proc = await run('work', 'READY');
      await new Promise((r) => setTimeout(r, 10 + Math.random() * 250));
      proc.kill('SIGKILL');
      await exited(proc);
      completedAtKill.push(listMigrations(database.db, { status: 'completed', limit: 5000 }).length);
    }
    await exited(await run('finish', 'DRAINED'));

    const session = await ZkSession.connect(ensemble.connectionString, { sessionTimeout: 6000 });
    const storage = new FileStorage({ root: env.ZKHA_ROOT!, nodes });
    try {
      const rows = [...listFiles(database.db, { limit: 1000, offset: 0 }).items, ...listFiles(database.db, { limit: 1000, offset: 1000 }).items];
      expect(new Map(rows.map((r) => [r.uuid, r.sha256]))).toEqual(before);
      const names = new Map<string, number>();
      for (const n of nodes) for (const f of await storage.listNodeFiles(n)) names.set(f.name, (names.get(f.name) ?? 0) + 1);
      expect([...names.values()].every((c) => c === 1)).toBe(true);
      expect(names.size).toBe(FILES);
      for (const n of nodes) expect((await readdir(storage.nodeDir(n))).filter((f) => f.startsWith('.'))).toEqual([]);
      expect(await findInconsistencies({ db: database.db, storage, metadata: new FileMetadataRegistry(session), nodes })).toEqual([]);
      const open = listMigrations(database.db, { limit: 5000 }).filter((m) => m.status === 'pending' || m.status === 'running' || m.status === 'paused');
      expect(open).toEqual([]);
      const recoveries = listOperations(database.db, { action: 'migration_recovery', limit: 500 }).items;
      const rolledBack = recoveries.reduce((a, o) => a + Number(o.details.rolledBack), 0);
      const rolledForward = recoveries.reduce((a, o) => a + Number(o.details.rolledForward), 0);
      const completed = listMigrations(database.db, { status: 'completed', limit: 5000 }).length;
      console.log(
        `[figure] ${KILLS} SIGKILLs during link-path batches over ${FILES} files: ${completed} moves completed (${completedAtKill.join(', ')} at each kill), ${rolledBack} rolled back and ${rolledForward} rolled forward by recovery, 0 lost, 0 duplicated`,
      );
      // The kills landed while moves were in flight, not only between plans.
      expect(rolledBack + rolledForward).toBeGreaterThan(0);
    } finally {
      await session.close();
      database.close();
    }
  }, 600_000);
});
